# Benchmarks of part: core. bench/fanout_cameras_blazeface.sh (run by scripts/bench)
# uses ort_run_cpu for its baseline: the CPU time of ONNX Runtime's Run() alone.
# (Not named bench_*: it needs arguments and is not a benchmark on its own.)
add_executable(ort_run_cpu ort_run_cpu.c)
target_link_libraries(ort_run_cpu PRIVATE onnxruntime m)
