"""The event catalog (事项目录): four levels of event classes, each with its department type and time limits."""
