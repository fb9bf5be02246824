"""Exception types raised by the service tooling."""

from __future__ import annotations


class ServiceError(Exception):
    """Base class: a test service could not be fetched, started, probed or stopped."""


class ToolMissingError(ServiceError):
    """A required external tool (java, mvn) is not installed or is too old."""


class FetchError(ServiceError):
    """Maven could not fetch or unpack a service's artifacts."""


class ServiceStartError(ServiceError):
    """A service process exited early or did not become ready in time.

    The message ends with the tail of the process log, so the cause is visible without
    opening any file.
    """
