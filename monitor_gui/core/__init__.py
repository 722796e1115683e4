"""The monitor core, free of Qt and zmq: MonitorState and its parts (docs/monitor-core.md)."""
