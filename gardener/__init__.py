"""Log Gardener: cluster Cloud Logging entries, rank them P0-P4, write a worklog, gate a deploy."""

__version__ = "0.1.0"
