"""The chat: the Gradio page and the HTML it shows (the page calls the service, nothing else)."""
