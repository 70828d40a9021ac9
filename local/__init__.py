"""Local development stand-ins for the cloud services the API depends on."""
