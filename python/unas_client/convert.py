"""Messages as plain Python values: dicts for scripts, DataFrames for notebooks.

Unlike json_format.MessageToDict, 64-bit integers stay ints (not strings)
and timestamps become datetimes, so the values can be plotted and compared
directly. Enums are their names ("JOB_STATE_SUCCEEDED"). Fields without
presence always appear (0, "", False, []); sub-messages and `optional`
fields appear only when set (e.g. `evaluation` only once a candidate is DONE).
"""

import datetime

from google.protobuf.descriptor import FieldDescriptor

_TIMESTAMP = "google.protobuf.Timestamp"


def to_dict(message):
    out = {}
    for field in message.DESCRIPTOR.fields:
        value = getattr(message, field.name)
        if field.label == FieldDescriptor.LABEL_REPEATED:
            out[field.name] = [_value(field, v) for v in value]
        elif field.type == FieldDescriptor.TYPE_MESSAGE or field.containing_oneof is not None:
            # Messages, oneof members and proto3 `optional` scalars (a synthetic
            # oneof) have presence: absent stays absent.
            if message.HasField(field.name):
                out[field.name] = _value(field, value)
        else:
            out[field.name] = _value(field, value)
    return out


def _value(field, value):
    if field.type == FieldDescriptor.TYPE_MESSAGE:
        if field.message_type.full_name == _TIMESTAMP:
            return datetime.datetime.fromtimestamp(value.seconds + value.nanos * 1e-9,
                                                   tz=datetime.timezone.utc)
        return to_dict(value)
    if field.type == FieldDescriptor.TYPE_ENUM:
        number = field.enum_type.values_by_number.get(value)
        return number.name if number is not None else value
    return value


def to_frame(rows, message_type):
    """A pandas DataFrame of to_dict() rows of `message_type`, nested fields as
    dotted columns ("metrics.peak_memory_bytes", "evaluation.test_error").
    Without rows it still has every column, so that selecting columns of an
    empty result (e.g. a Pareto front nobody reached yet) does not fail."""
    try:
        import pandas
    except ImportError:
        raise ImportError("frame=True needs pandas (Debian: python3-pandas)") from None
    if not rows:
        return pandas.DataFrame(columns=_columns(message_type.DESCRIPTOR, ""))
    return pandas.json_normalize(rows, sep=".")


def _columns(descriptor, prefix):
    out = []
    for field in descriptor.fields:
        name = prefix + field.name
        if field.type == FieldDescriptor.TYPE_MESSAGE and \
                field.label != FieldDescriptor.LABEL_REPEATED and \
                field.message_type.full_name != _TIMESTAMP:
            out.extend(_columns(field.message_type, name + "."))
        else:
            out.append(name)
    return out
