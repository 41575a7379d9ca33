"""Recording hooks: policy, naming by call id, metadata hand-off and post-recording hooks."""

from recording.hooks import (
    ExternalCommandHook,
    LiveRecordingInfo,
    MetadataSink,
    PostRecordingHook,
    RecordingMetadata,
    RecordingPolicy,
    Recordings,
    recording_name,
)

__all__ = [
    "ExternalCommandHook",
    "LiveRecordingInfo",
    "MetadataSink",
    "PostRecordingHook",
    "RecordingMetadata",
    "RecordingPolicy",
    "Recordings",
    "recording_name",
]
