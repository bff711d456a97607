#!/usr/bin/env python3
"""Helper for test/unit/tensorboard.test.ts: inspects event files with TensorBoard's own code.

Needs only the `tensorboard` PyPI package (no TensorFlow). Prints one JSON document on stdout.

  read_events.py check                 exit 0 if tensorboard is importable (prints its version)
  read_events.py read LOGDIR           what TensorBoard's loaders find in LOGDIR, a folder or s3://bucket/prefix
                                       (runs, files, scalars, histograms, graphs, hparams)
  read_events.py descriptors           field numbers/types and enum values of the protos we encode
  read_events.py frame HEX             TFRecord framing of the bytes HEX, by tensorboard's RecordWriter
  read_events.py write PATH            a reference event file written by tensorboard's EventFileWriter
"""
import io
import json
import os
import sys


def check():
    import tensorboard

    return {"tensorboard": tensorboard.__version__}


def _message_to_dict(msg):
    from google.protobuf import json_format

    return json_format.MessageToDict(msg, preserving_proto_field_name=True)


def read(logdir):
    from tensorboard.backend.event_processing import event_accumulator
    from tensorboard.backend.event_processing import event_file_loader
    from tensorboard.backend.event_processing import io_wrapper
    from tensorboard.backend.event_processing import plugin_event_multiplexer
    from tensorboard.compat import tf
    from tensorboard.plugins.hparams import metadata as hp_metadata

    out = {"runs": {}}
    run_dirs = {}

    # 1. Raw records of every event file, with TensorBoard's loader (checks CRCs).
    for run_dir in sorted(io_wrapper.GetLogdirSubdirectories(logdir)):
        run = os.path.relpath(run_dir, logdir)
        run_dirs[run] = run_dir
        # tf.io.gfile: TensorBoard's file layer, which also reads s3:// (boto3, S3_ENDPOINT)
        files = sorted(
            f for f in tf.io.gfile.listdir(run_dir) if io_wrapper.IsTensorFlowEventsFile(f)
        )
        entry = out["runs"].setdefault(run, {})
        entry["files"] = []
        for name in files:
            loader = event_file_loader.EventFileLoader(os.path.join(run_dir, name))
            events = list(loader.Load())
            entry["files"].append(
                {
                    "name": name,
                    "num_events": len(events),
                    "first": events[0].WhichOneof("what") if events else None,
                    "file_version": events[0].file_version if events else None,
                    "steps": [
                        e.step for e in events if e.WhichOneof("what") == "summary"
                    ],
                }
            )

    # 2. Legacy accumulator: simple_value scalars and raw HistogramProto values, per run.
    for run in out["runs"]:
        acc = event_accumulator.EventAccumulator(
            run_dirs[run],
            size_guidance={
                event_accumulator.SCALARS: 0,
                event_accumulator.HISTOGRAMS: 0,
            },
        )
        acc.Reload()
        tags = acc.Tags()
        entry = out["runs"][run]
        entry["scalars"] = {
            tag: [[s.step, s.value, s.wall_time] for s in acc.Scalars(tag)]
            for tag in tags["scalars"]
        }
        entry["histograms"] = {
            tag: [
                {
                    "step": h.step,
                    "min": h.histogram_value.min,
                    "max": h.histogram_value.max,
                    "num": h.histogram_value.num,
                    "sum": h.histogram_value.sum,
                    "sum_squares": h.histogram_value.sum_squares,
                    "bucket_limit": list(h.histogram_value.bucket_limit),
                    "bucket": list(h.histogram_value.bucket),
                }
                for h in acc.Histograms(tag)
            ]
            for tag in tags["histograms"]
        }
        entry["has_graph"] = bool(tags["graph"])
        if tags["graph"]:
            graph = acc.Graph()
            entry["graph"] = [
                {"name": n.name, "op": n.op, "input": list(n.input), "attr": sorted(n.attr.keys())}
                for n in graph.node
            ]

    # 3. What the plugins see (the path TensorBoard's Python data provider uses, with data_compat).
    mux = plugin_event_multiplexer.EventMultiplexer()
    mux.AddRunsFromDirectory(logdir)
    mux.Reload()
    out["plugin_runs"] = sorted(mux.Runs().keys())
    out["active_plugins"] = sorted(mux.ActivePlugins())
    scalars = {}
    for run, tag_to_content in mux.PluginRunToTagToContent("scalars").items():
        for tag in tag_to_content:
            scalars.setdefault(run, {})[tag] = [
                [t.step, float(t.tensor_proto.float_val[0]) if t.tensor_proto.float_val else None]
                for t in mux.Tensors(run, tag)
            ]
    out["plugin_scalars"] = scalars
    histos = {}
    from tensorboard.util import tensor_util

    for run, tag_to_content in mux.PluginRunToTagToContent("histograms").items():
        for tag in tag_to_content:
            histos.setdefault(run, {})[tag] = [
                {"step": t.step, "buckets": tensor_util.make_ndarray(t.tensor_proto).tolist()}
                for t in mux.Tensors(run, tag)
            ]
    out["plugin_histograms"] = histos
    texts = {}
    for run, tag_to_content in mux.PluginRunToTagToContent("text").items():
        for tag in tag_to_content:
            texts.setdefault(run, {})[tag] = [
                [t.step, tensor_util.make_ndarray(t.tensor_proto).item().decode("utf-8")]
                for t in mux.Tensors(run, tag)
            ]
    out["plugin_text"] = texts

    hparams = {}
    for run, tag_to_content in mux.PluginRunToTagToContent(hp_metadata.PLUGIN_NAME).items():
        for tag, content in tag_to_content.items():
            if tag == hp_metadata.EXPERIMENT_TAG:
                parsed = hp_metadata.parse_experiment_plugin_data(content)
            elif tag == hp_metadata.SESSION_START_INFO_TAG:
                parsed = hp_metadata.parse_session_start_info_plugin_data(content)
            elif tag == hp_metadata.SESSION_END_INFO_TAG:
                parsed = hp_metadata.parse_session_end_info_plugin_data(content)
            else:
                parsed = None
            hparams.setdefault(run, {})[tag] = (
                _message_to_dict(parsed) if parsed is not None else None
            )
    out["hparams"] = hparams
    return out


def descriptors():
    from google.protobuf import descriptor as d
    from google.protobuf import struct_pb2
    from tensorboard.compat.proto import (
        attr_value_pb2,
        event_pb2,
        graph_pb2,
        node_def_pb2,
        summary_pb2,
        tensor_pb2,
        tensor_shape_pb2,
        types_pb2,
        versions_pb2,
    )
    from tensorboard.plugins.hparams import api_pb2, plugin_data_pb2

    modules = [
        attr_value_pb2, event_pb2, graph_pb2, node_def_pb2, summary_pb2, tensor_pb2,
        tensor_shape_pb2, types_pb2, versions_pb2, api_pb2, plugin_data_pb2, struct_pb2,
    ]
    messages, enums = {}, {}

    def field_info(f):
        if hasattr(f, "is_repeated"):  # protobuf >= 6 (FieldDescriptor.label was removed)
            repeated = f.is_repeated
        else:
            repeated = f.label == d.FieldDescriptor.LABEL_REPEATED
        info = {"number": f.number, "type": f.type, "repeated": repeated}
        if repeated and hasattr(f, "is_packed"):
            info["packed"] = f.is_packed
        if f.message_type is not None:
            info["type_name"] = f.message_type.full_name
            if f.message_type.GetOptions().map_entry:
                key, value = f.message_type.fields_by_name["key"], f.message_type.fields_by_name["value"]
                info["map"] = {"key_type": key.type, "value": field_info(value)}
        if f.enum_type is not None:
            info["type_name"] = f.enum_type.full_name
        return info

    def visit_message(m):
        messages[m.full_name] = {
            "fields": {f.name: field_info(f) for f in m.fields},
            "oneofs": {o.name: [f.name for f in o.fields] for o in m.oneofs},
        }
        for nested in m.nested_types:
            visit_message(nested)
        for e in m.enum_types:
            enums[e.full_name] = {v.name: v.number for v in e.values}

    seen = set()
    pending = [mod.DESCRIPTOR for mod in modules]
    while pending:  # the files and everything they import (e.g. summary.proto -> histogram.proto)
        fd = pending.pop()
        if fd.name in seen:
            continue
        seen.add(fd.name)
        pending.extend(fd.dependencies)
        for m in fd.message_types_by_name.values():
            visit_message(m)
        for e in fd.enum_types_by_name.values():
            enums[e.full_name] = {v.name: v.number for v in e.values}
    return {"messages": messages, "enums": enums}


def frame(hex_data):
    from tensorboard.summary.writer.record_writer import RecordWriter

    buf = io.BytesIO()
    RecordWriter(buf).write(bytes.fromhex(hex_data))
    return {"framed": buf.getvalue().hex()}


def write(path):
    from tensorboard.compat.proto import event_pb2, summary_pb2
    from tensorboard.summary.writer.event_file_writer import EventFileWriter

    os.makedirs(path, exist_ok=True)
    w = EventFileWriter(path)
    for step in range(3):
        w.add_event(
            event_pb2.Event(
                wall_time=1700000000.0 + step,
                step=step,
                summary=summary_pb2.Summary(
                    value=[summary_pb2.Summary.Value(tag="py/loss", simple_value=1.0 / (step + 1))]
                ),
            )
        )
    w.close()
    files = [f for f in os.listdir(path) if "tfevents" in f]
    return {"file": os.path.join(path, files[0])}


def main(argv):
    cmd = argv[1] if len(argv) > 1 else ""
    if cmd == "check":
        result = check()
    elif cmd == "read":
        result = read(argv[2])
    elif cmd == "descriptors":
        result = descriptors()
    elif cmd == "frame":
        result = frame(argv[2])
    elif cmd == "write":
        result = write(argv[2])
    else:
        print(__doc__, file=sys.stderr)
        return 2
    json.dump(result, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
