#!/usr/bin/python3
"""Generate the small ONNX graphs the processing tests run through ONNX Runtime.

No YOLO or classification weights can be fetched here, so the decoders are
tested on graphs whose outputs are known exactly:
  yolo_const.onnx      input images [1,3,64,64] -> output0 [1,4+3,16]: a constant
                       (plus 0 * mean(input), so the input is really consumed)
  yolo_const_t.onnx    the same, transposed: [1,16,4+3]
  cls_colour.onnx      input x [1,3,8,8] (NCHW RGB in [0,1]) -> logits [1,3] =
                       10 * per-channel mean: the class is the dominant colour
Usage: gen_graphs.py OUTDIR
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

# Anchors (cx, cy, w, h in model-input pixels; class scores for 3 classes).
YOLO_ANCHORS = [
    ((20, 30, 10, 10), (0.90, 0.00, 0.00)),  # kept, class 0
    ((21, 30, 10, 10), (0.80, 0.00, 0.00)),  # IoU 0.82 with #0, same class: suppressed
    ((21, 31, 10, 10), (0.00, 0.85, 0.00)),  # overlaps #0, class 1: kept per class, not agnostic
    ((50, 40, 8, 8), (0.00, 0.00, 0.30)),    # below the 0.5 threshold
    ((45, 40, 6, 6), (0.00, 0.00, 0.70)),    # kept, class 2
    ((10, 40, 4, 4), (0.10, 0.10, 0.10)),    # below the threshold
]
# Padded with empty anchors to N = 16 > 4 + C, as in real exports (N in the
# thousands), so the layout can also be told from the shape alone.
N_ANCHORS = 16


def yolo_values():
    v = np.zeros((1, 7, N_ANCHORS), dtype=np.float32)
    for i, (box, scores) in enumerate(YOLO_ANCHORS):
        v[0, 0:4, i] = box
        v[0, 4:7, i] = scores
    return v


def const_plus_zero_input(name, in_name, in_shape, out_name, value):
    const = numpy_helper.from_array(value, "const_out")
    zero = numpy_helper.from_array(np.zeros((1,), dtype=np.float32), "zero")
    nodes = [
        helper.make_node("ReduceMean", [in_name], ["m"], keepdims=0),
        helper.make_node("Mul", ["m", "zero"], ["z"]),
        helper.make_node("Add", ["const_out", "z"], [out_name]),
    ]
    g = helper.make_graph(nodes, name,
                          [helper.make_tensor_value_info(in_name, TensorProto.FLOAT, in_shape)],
                          [helper.make_tensor_value_info(out_name, TensorProto.FLOAT, list(value.shape))],
                          initializer=[const, zero])
    return g


def save(graph, path):
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    m.ir_version = 8
    onnx.checker.check_model(m)
    onnx.save(m, path)


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    v = yolo_values()
    save(const_plus_zero_input("yolo_const", "images", [1, 3, 64, 64], "output0", v),
         os.path.join(out, "yolo_const.onnx"))
    save(const_plus_zero_input("yolo_const_t", "images", [1, 3, 64, 64], "output0",
                               np.ascontiguousarray(v.transpose(0, 2, 1))),
         os.path.join(out, "yolo_const_t.onnx"))
    ten = numpy_helper.from_array(np.array([10.0], dtype=np.float32), "ten")
    nodes = [
        helper.make_node("ReduceMean", ["x"], ["mean"], axes=[2, 3], keepdims=0),
        helper.make_node("Mul", ["mean", "ten"], ["logits"]),
    ]
    g = helper.make_graph(nodes, "cls_colour",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8])],
                          [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, 3])],
                          initializer=[ten])
    save(g, os.path.join(out, "cls_colour.onnx"))


if __name__ == "__main__":
    main()
