"""The page's configuration: the optional base map (a city's own tile service) and the page's security policy."""
