import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ftmv.settings")
django_application = get_wsgi_application()

# Chunked request bodies are read in full (Django alone reads them as empty); see core.chunked.
from core.chunked import ChunkedBodyMiddleware  # noqa: E402 - needs the settings configured above

application = ChunkedBodyMiddleware(django_application)
