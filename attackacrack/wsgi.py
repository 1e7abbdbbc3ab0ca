import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "attackacrack.settings")

project = get_wsgi_application()

from attackacrack.web.one_at_a_time import OneRequestAtATime  # noqa: E402 - once Django is set up

application = OneRequestAtATime(project)
