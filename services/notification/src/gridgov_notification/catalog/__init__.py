"""The event catalog as notification learns it from dispatch: the names of the categories its messages show."""
