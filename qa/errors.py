"""Errors a user can act on: each message says what went wrong and what to do."""


class QAError(Exception):
    """An error whose message is meant for the user, not a traceback."""


class IndexMissingError(QAError):
    def __init__(self, path):
        super().__init__(
            f"Aucun index trouvé dans « {path} ». Construisez-le avec : python -m qa index "
            f"(no index found at {path}; build it with `python -m qa index`)."
        )


class IndexCorruptError(QAError):
    def __init__(self, path, reason):
        super().__init__(
            f"L'index « {path} » est illisible ({reason}). Reconstruisez-le avec : "
            f"python -m qa index --rebuild (unreadable index; rebuild it)."
        )


class EncoderMismatchError(QAError):
    def __init__(self, index_path, built_with, requested):
        super().__init__(
            f"L'index « {index_path} » a été construit avec {built_with}, mais l'encodeur demandé est "
            f"{requested}. Reconstruisez l'index avec cet encodeur : python -m qa index --rebuild, "
            f"ou choisissez le même modèle (QA_MODEL / QA_BACKEND, --model / --backend)."
        )


class EmptyIndexError(QAError):
    def __init__(self, corpus):
        super().__init__(
            f"Aucun document n'est encore indexé. Ajoutez des communiqués dans « {corpus} » puis lancez "
            f"python -m qa index (nothing is indexed yet)."
        )


class EncoderUnavailableError(QAError):
    pass
