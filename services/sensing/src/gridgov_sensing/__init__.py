"""sensing: the city's cameras and sensors, their alarms, deduplication, suppression and the cases they open."""
