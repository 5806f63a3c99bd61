"""GET /service-info: GA4GH service-info with the DRS section."""

from __future__ import annotations

from fastapi import APIRouter

from harmonize import __version__
from harmonize.drs.deps import RegistryDep, SettingsDep
from harmonize.drs.schemas import DrsSection, Organization, ServiceInfo, ServiceType

router = APIRouter(tags=["Service Info"])


@router.get("/service-info", response_model=ServiceInfo)
def service_info(settings: SettingsDep, registry: RegistryDep) -> ServiceInfo:
    """Who we are, the bulk limit, and how many objects and bytes we serve."""
    limit = settings.max_bulk_request_length
    return ServiceInfo(
        id=settings.service_id,
        name=settings.service_name,
        type=ServiceType(),
        description="GA4GH DRS 1.5.0 read API for files published by Harmonize",
        organization=Organization(name=settings.organization_name, url=settings.organization_url),
        version=__version__,
        maxBulkRequestLength=limit,
        drs=DrsSection(
            maxBulkRequestLength=limit,
            objectCount=registry.count(),
            totalObjectSize=registry.total_size(),
        ),
    )
