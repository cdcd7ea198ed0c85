"""The chat: `python app.py [--host HOST] [--port PORT] [--corpus DIR] [--index DIR]`.

The page itself is qa/chat/page.py; the service under it (shared with the command line and the
/ask API) is qa/service.py.
"""
import sys

from qa.chat.page import run

if __name__ == "__main__":
    sys.exit(run())
