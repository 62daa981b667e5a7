"""gunicorn settings for `make serve` (gunicorn -c heritage/gunicorn.conf.py).

Each number can be set from the environment (README, Deployment); the defaults suit a small
server with a few curators and public readers who download the whole archive.
"""

import os

wsgi_app = "heritage.wsgi:application"
bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"

# Threads, not sync workers: the public downloads stream 100,000 incidents for minutes. A sync
# worker's timeout counts from the start of the request, so the arbiter killed it mid-stream (the
# client had its 200 and got a truncated file), and each download held a whole worker, so two
# downloads took the site down. A gthread worker's main loop reports to the arbiter while its
# threads serve, so the timeout only catches a worker that is stuck as a whole, and a download
# holds one thread of many.
worker_class = "gthread"
workers = int(os.environ.get("GUNICORN_WORKERS", "2"))
threads = int(os.environ.get("GUNICORN_THREADS", "8"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
# On a restart or deploy, downloads under way get this long to finish before they are cut.
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "120"))
keepalive = 5

accesslog = "-"
errorlog = "-"
# The wsgi.url_scheme a proxy on this machine reports; Django itself trusts X-Forwarded-Proto only
# with BEHIND_TLS_PROXY (SECURE_PROXY_SSL_HEADER).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
