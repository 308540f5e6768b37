"""Imports every slice's models so that Base.metadata is complete (for Alembic and test set-up)."""

from xinfang.cases import models as cases_models
from xinfang.dispatch import models as dispatch_models
from xinfang.org import models as org_models
from xinfang.security import models as security_models
from xinfang.store.base import Base

__all__ = ["Base", "cases_models", "dispatch_models", "org_models", "security_models"]
metadata = Base.metadata
