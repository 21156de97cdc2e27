__version__ = "1.0.0"  # follows the API version (OpenAPI info.version)
