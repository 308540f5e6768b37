"""Imports every slice's models so that Base.metadata is complete (for Alembic and test set-up)."""

from xinfang.alerts import models as alerts_models  # noqa: F401  (early-warning alerts)
from xinfang.analytics import models as analytics_models  # noqa: F401  (heat-map indexes)
from xinfang.cases import models as cases_models
from xinfang.dispatch import models as dispatch_models
from xinfang.hotspots import models as hotspots_models  # noqa: F401
from xinfang.org import models as org_models
from xinfang.prevention import models as prevention_models  # noqa: F401  (ledger, risk register, joint handling)
from xinfang.referrals import models as referrals_models  # noqa: F401  (访调诉 referrals)
from xinfang.review import models as review_models  # noqa: F401  (案件评查)
from xinfang.security import models as security_models
from xinfang.store import jobs as jobs_models  # noqa: F401  (job queue / outbox)
from xinfang.store.base import Base

__all__ = ["Base", "cases_models", "dispatch_models", "org_models", "security_models"]
metadata = Base.metadata
