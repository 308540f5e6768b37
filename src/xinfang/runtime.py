"""The long-lived objects one process needs, built once from Settings: engine, sessions, keys, clock, analyser.

The web app and the CLI build a Runtime at start-up (never at import) and pass it down.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from xinfang.cases.calendar import load_calendar
from xinfang.cases.deadlines import Rule, validate_local_limits
from xinfang.cases.procedure import ProcedureContext
from xinfang.cases.service import Analyser, IntakeContext
from xinfang.clock import Clock, SystemClock
from xinfang.config import Settings
from xinfang.security.crypto import KeyRing
from xinfang.store.db import make_engine, make_sessionmaker, session_scope


@dataclass
class Runtime:
    settings: Settings
    clock: Clock = field(default_factory=SystemClock)
    analyser_override: Analyser | None = None

    @cached_property
    def engine(self) -> Engine:
        return make_engine(self.settings.database_url)

    @cached_property
    def sessions(self) -> sessionmaker[Session]:
        from xinfang.analytics import rollup  # the heat-map roll-up is kept on every flush (analytics.rollup)

        factory = make_sessionmaker(self.engine)
        rollup.install(factory)
        return factory

    @cached_property
    def keyring(self) -> KeyRing:
        s = self.settings
        return KeyRing.from_settings(s.data_key_id, s.data_key, s.old_data_keys)

    @cached_property
    def analyser(self) -> Analyser | None:
        """The dispatch engine, loaded once; None where dispatch is switched off (then intake only registers)."""
        if self.analyser_override is not None:
            return self.analyser_override
        if not self.settings.dispatch_enabled:
            return None
        if self.settings.model_dir is not None:  # follows `xinfang model activate` without a restart
            from xinfang.dispatch.engine import sessionless_analyser

            return sessionless_analyser(self.settings.model_dir)
        return load_default_analyser()

    @property
    def token_ttl(self) -> timedelta:
        return timedelta(minutes=self.settings.token_ttl_minutes)

    @property
    def notice_templates_dir(self) -> Path:
        s = self.settings
        return s.notice_templates_dir or s.attachments_dir.parent / "notice_templates"

    @cached_property
    def procedure(self) -> ProcedureContext:
        s = self.settings
        return ProcedureContext(
            calendar=load_calendar(overrides=s.calendar_overrides),
            documents_dir=s.attachments_dir,
            template_dir=self.notice_templates_dir,  # per kind, if present (looked up at each notice)
            local_limits=validate_local_limits({Rule(k): v for k, v in s.local_limits.items()}),
            after_step=dispatch_after_step,
            before_step=prevention_before_step,
        )

    def intake_context(self, session: Session | None = None) -> IntakeContext:
        """Pass the session petitions are registered in: routing reads the active rules version through it."""
        from xinfang.intake.enrichment import on_registered

        return IntakeContext(
            keyring=self.keyring,
            analyser=self.intake_analyser(session),
            auto_dispatch=self.settings.auto_dispatch,
            procedure=self.procedure,
            on_registered=on_registered,
        )

    def intake_analyser(self, session: Session | None = None) -> Analyser | None:
        """The analyser routing with the active database rules, looked up on every call so that a rules edit
        applies to the next petition on every instance. Without a session only the shipped rules are known:
        a second session cannot read them meanwhile, as SQLite transactions here begin IMMEDIATE (write lock)."""
        if self.analyser_override is not None:
            return self.analyser_override
        if session is None or not self.settings.dispatch_enabled:
            return self.analyser
        from xinfang.dispatch.service import analyser_for

        return analyser_for(session, model_dir=self.settings.model_dir)

    @contextmanager
    def session(self) -> Iterator[Session]:
        with session_scope(self.sessions) as s:
            yield s

    def dispose(self) -> None:
        if "engine" in self.__dict__:
            self.engine.dispose()


def prevention_before_step(*args: Any) -> None:
    """Joint handling (多方联动): the lead department's reply waits for the co-handlers' parts."""
    from xinfang.prevention.joint import before_step

    before_step(*args)


def dispatch_after_step(*args: Any) -> None:
    from xinfang.dispatch.service import after_step

    after_step(*args)


@lru_cache(maxsize=1)
def load_default_analyser() -> Analyser:
    """Loaded once per process: the pipeline is read-only after loading, so every Runtime can share it."""
    from xinfang.dispatch.service import default_pipeline

    return default_pipeline().analyse  # the same pipeline the database-rules analysers derive from
