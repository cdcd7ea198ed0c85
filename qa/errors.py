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


class CorpusMissingError(QAError):
    def __init__(self, corpus):
        super().__init__(
            f"Le dossier du corpus « {corpus} » n'existe pas ou n'est pas un dossier : l'index n'a pas été "
            f"modifié. Vérifiez --corpus ou QA_CORPUS (corpus folder not found; the index is untouched)."
        )


class BuildRunningError(QAError):
    def __init__(self, index_dir):
        super().__init__(
            f"Une indexation de « {index_dir} » est déjà en cours ; réessayez quand elle sera terminée "
            f"(another build of this index is running)."
        )


class AccessDenied(QAError):
    """An edit (upload, deletion, rebuild) asked by someone who is not an editor."""


_OS_REASONS = {
    "ENOENT": ("introuvable", "not found"),
    "EACCES": ("accès refusé : vérifiez les droits sur ce fichier ou ce dossier", "permission denied"),
    "EPERM": ("opération non permise : vérifiez les droits sur ce fichier ou ce dossier", "operation not permitted"),
    "EROFS": ("système de fichiers en lecture seule : choisissez un dossier où écrire", "read-only file system"),
    "ENOSPC": ("plus de place sur le disque", "no space left on device"),
    "ENOTDIR": ("un élément du chemin n'est pas un dossier", "not a directory"),
    "EISDIR": ("c'est un dossier, pas un fichier", "is a directory"),
}


def os_error_message(error: OSError) -> str:
    """A sentence for a file-system error: which file, and what went wrong, in French then English."""
    import errno
    name = errno.errorcode.get(error.errno or 0, "")
    detail = error.strerror or type(error).__name__
    french, english = _OS_REASONS.get(name, (detail, detail))
    where = error.filename
    if isinstance(where, bytes):
        where = where.decode("utf-8", "backslashreplace")
    if where is None:
        return f"Erreur du système de fichiers : {french} ({english})."
    where = str(where).encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return f"« {where} » : {french} ({english})."
