"""``gridgov history``: the demo city's past, planned (``plan``) and loaded into the services (``run``)."""
