"""The event catalog as intake learns it from dispatch: the codes a report may carry under the version in effect."""
