"""Celery bound to the Flask app: every task runs inside ``app.app_context()``."""

from __future__ import annotations

from celery import Celery, Task
from celery import current_app as current_celery
from celery.signals import worker_process_init
from flask import Flask


def celery_init_app(app: Flask) -> Celery:
    class FlaskTask(Task):
        def __call__(self, *args, **kwargs):
            with app.app_context():
                return self.run(*args, **kwargs)

    celery_app = Celery(app.name, task_cls=FlaskTask)
    celery_app.flask_app = app
    celery_app.config_from_object(app.config["CELERY"])
    celery_app.set_default()
    app.extensions["celery"] = celery_app
    # Register the shared tasks of every module in this package with this app.
    import importlib
    import pkgutil

    for mod in pkgutil.iter_modules(__path__):
        if mod.name != "celery_app":
            importlib.import_module(f"{__name__}.{mod.name}")

    return celery_app


@worker_process_init.connect
def _own_connections(**_kwargs) -> None:
    """Each pool process opens its own database connections: drop (without closing: the
    parent still owns them) whatever the pool inherited from the worker's main process
    at the fork, so no two processes ever share a PostgreSQL connection."""
    from procure.extensions import db

    flask_app = getattr(current_celery, "flask_app", None)
    if flask_app is None:
        return
    with flask_app.app_context():
        for engine in db.engines.values():
            engine.dispose(close=False)
