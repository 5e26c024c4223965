import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "guanxi.config.settings")
application = get_wsgi_application()

# load pypinyin's dictionaries now, in the server's start-up, rather than on the first customer
# written (commands load them on first use only: see guanxi.customers.search)
from guanxi.customers.search import syllables  # noqa: E402

syllables("关系")
