"""The WSGI entry point (gunicorn), with every view loaded before the first request."""

import gc
import os
from importlib import import_module

from django.conf import settings
from django.core.wsgi import get_wsgi_application

from common.staticfiles import static_files_require

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

application = get_wsgi_application()
# With DEBUG off and static files not collected, stop here with the command that fixes it,
# rather than answer 500 to every page.
static_files_require()

# Load every view now rather than on the first request (the URLconf imports them), then
# leave everything loaded so far out of garbage collection: it lives as long as the process.
# A full collection otherwise walks those ~90,000 objects, which stops every request in the
# process for 30-70 ms.
import_module(settings.ROOT_URLCONF)
gc.collect()
gc.freeze()
