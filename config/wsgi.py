import os

from django.core.wsgi import get_wsgi_application

from config.env import exit_on_config_error

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

# A wrong setting stops the server with one line naming it (config/env.py).
with exit_on_config_error():
    application = get_wsgi_application()
