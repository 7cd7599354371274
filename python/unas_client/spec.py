"""Job specs from what a user has at hand: a file, textproto text, a dict.

Files may name a `base` spec (relative to the file) and `clear_from_base`
paths, resolved here exactly as unasctl resolves them: set scalars and oneof
members replace, messages merge field by field, repeated fields replace as a
whole. Nothing is defaulted or validated here: the coordinator does both on
submit and names every offending field in its error.
"""

import os

from google.protobuf import json_format, text_format
from google.protobuf.descriptor import FieldDescriptor

from . import _stubs
from .errors import SpecError

JobSpec = _stubs.job_spec_pb2.JobSpec

_TEXT_EXTENSIONS = (".textproto", ".txtpb", ".pbtxt", ".textpb")
# A chain longer than this is certainly a mistake (as in unasctl).
_MAX_BASE_DEPTH = 16


def load_spec(spec):
    """A JobSpec from a JobSpec, a dict (JSON field names), a path, or textproto text."""
    if isinstance(spec, JobSpec):
        out = JobSpec()
        out.CopyFrom(spec)
        return out
    if isinstance(spec, dict):
        out = JobSpec()
        try:
            json_format.ParseDict(spec, out)
        except json_format.ParseError as e:
            raise SpecError("job spec dict: %s" % e) from None
        return _no_base(out, "job spec dict")
    if isinstance(spec, os.PathLike) or (isinstance(spec, str) and _looks_like_path(spec)):
        return read_spec_file(os.fspath(spec))
    if isinstance(spec, str):
        return _no_base(_parse(spec, "textproto", "job spec text"), "job spec text")
    raise TypeError("spec: a path, a textproto string, a dict or a JobSpec, not %s"
                    % type(spec).__name__)


def read_spec_file(path):
    """A spec file (textproto or .json) with its chain of base specs resolved."""
    return _read_with_bases(path, [])


def _looks_like_path(text):
    return "\n" not in text and (os.path.isfile(text)
                                 or text.endswith(_TEXT_EXTENSIONS + (".json",)))


def _no_base(spec, origin):
    if spec.base or spec.clear_from_base:
        raise SpecError("%s: base: only spec files can name a base spec" % origin)
    return spec


def _parse(text, kind, origin):
    spec = JobSpec()
    try:
        if kind == "json":
            json_format.Parse(text, spec)
        else:
            text_format.Parse(text, spec)
    except (json_format.ParseError, text_format.ParseError) as e:
        raise SpecError("%s: %s" % (origin, e)) from None
    return spec


def _read_file(path):
    if path.endswith(".json"):
        kind = "json"
    elif path.endswith(_TEXT_EXTENSIONS):
        kind = "textproto"
    else:
        raise SpecError("%s: unknown spec format (use .textproto or .json)" % path)
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError as e:
        raise SpecError("%s: cannot read: %s" % (path, e.strerror)) from None
    return _parse(text, kind, path)


def _read_with_bases(path, chain):
    key = os.path.realpath(path)
    if key in chain:
        raise SpecError("base: specs include each other: " + " -> ".join(chain + [key]))
    if len(chain) >= _MAX_BASE_DEPTH:
        raise SpecError("%s: base: more than %d levels of base specs" % (path, _MAX_BASE_DEPTH))
    chain.append(key)
    spec = _read_file(path)
    if not spec.base:
        if spec.clear_from_base:
            raise SpecError("%s: clear_from_base: needs a base spec" % path)
        return spec
    try:
        merged = _read_with_bases(os.path.join(os.path.dirname(path), spec.base), chain)
    except SpecError as e:
        raise SpecError('%s: base "%s": %s' % (path, spec.base, e)) from None
    for i, field_path in enumerate(spec.clear_from_base):
        try:
            clear_field_path(field_path, merged)
        except ValueError as e:
            raise SpecError('%s: clear_from_base[%d] ("%s"): %s' % (path, i, field_path, e)) \
                from None
    spec.ClearField("base")
    del spec.clear_from_base[:]
    apply_override(spec, merged)
    return merged


def apply_override(override, target):
    """Applies `override` on top of `target` (same message type), in place."""
    _clear_overridden_repeated(override, target)
    # MergeFrom copies set scalars (proto3 `optional` ones even when 0 or
    # false), switches oneofs and merges sub-messages, but appends repeated
    # fields: those were cleared above so that they replace.
    target.MergeFrom(override)


def _clear_overridden_repeated(override, target):
    for field, value in override.ListFields():
        if field.label == FieldDescriptor.LABEL_REPEATED:
            target.ClearField(field.name)
        elif field.type == FieldDescriptor.TYPE_MESSAGE and target.HasField(field.name):
            _clear_overridden_repeated(value, getattr(target, field.name))


def clear_field_path(path, message):
    """Clears the field a dotted path of names ("bounds.macs") names in `message`."""
    names = path.split(".")
    current = message
    for i, name in enumerate(names):
        field = current.DESCRIPTOR.fields_by_name.get(name)
        if field is None:
            raise ValueError("%s has no field '%s'" % (current.DESCRIPTOR.name, name))
        if i + 1 == len(names):
            current.ClearField(name)
            return
        if field.label == FieldDescriptor.LABEL_REPEATED or \
                field.type != FieldDescriptor.TYPE_MESSAGE:
            raise ValueError("'%s' is not a singular message field" % name)
        if not current.HasField(name):
            return  # nothing to clear
        current = getattr(current, name)
