import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import java.io.InputStream;
import java.nio.FloatBuffer;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;
import java.util.jar.JarFile;

/**
 * The baseline: the same model run by ONNX Runtime in-process, with the session options the
 * appliance uses (intra-op 1, inter-op 1), from THREADS threads for SECONDS seconds.
 * Usage: java -cp onnxruntime-bundle.jar InProcessOrt.java PLUGIN.jar THREADS SECONDS BATCH [INPUT DIMS]
 * INPUT and DIMS (the dimensions after the batch one, comma-separated) default to fashion-mnist's
 * {@code image} and {@code 1,28,28}; the PP-OCR detection bench passes {@code x 3,320,320}.
 */
public class InProcessOrt {
    private static long cpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory
                .getOperatingSystemMXBean()).getProcessCpuTime();
    }

    public static void main(String[] args) throws Exception {
        String plugin = args[0];
        int threads = Integer.parseInt(args[1]);
        int seconds = Integer.parseInt(args[2]);
        int batch = Integer.parseInt(args[3]);
        String input = args.length > 4 ? args[4] : "image";
        String[] dims = (args.length > 5 ? args[5] : "1,28,28").split(",");
        long[] shape = new long[dims.length + 1];
        shape[0] = batch;
        long perItem = 1;
        for (int i = 0; i < dims.length; i++) {
            shape[i + 1] = Long.parseLong(dims[i]);
            perItem *= shape[i + 1];
        }
        byte[] model;
        try (JarFile jar = new JarFile(plugin); InputStream in = jar.getInputStream(jar.getEntry("TOLLGATE-INF/model.onnx"))) {
            model = in.readAllBytes();
        }
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        OrtSession.SessionOptions options = new OrtSession.SessionOptions();
        options.setIntraOpNumThreads(1);
        options.setInterOpNumThreads(1);
        options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
        try (OrtSession session = env.createSession(model, options)) {
            float[] x = new float[(int) (batch * perItem)];
            for (int i = 0; i < x.length; i++) {
                x[i] = (i % 255) / 255f;
            }
            LongAdder runs = new LongAdder();
            AtomicBoolean go = new AtomicBoolean(true);
            Thread[] workers = new Thread[threads];
            for (int t = 0; t < threads; t++) {
                workers[t] = new Thread(() -> {
                    try {
                        while (go.get()) {
                            try (OnnxTensor in = OnnxTensor.createTensor(env, FloatBuffer.wrap(x), shape);
                                 OrtSession.Result r = session.run(Map.of(input, in))) {
                                runs.increment();
                            }
                        }
                    } catch (Exception e) {
                        throw new RuntimeException(e);
                    }
                });
            }
            // Warm up for 2 s, then measure.
            for (Thread w : workers) {
                w.start();
            }
            Thread.sleep(2000);
            runs.reset();
            long start = System.nanoTime();
            long cpuStart = cpuNanos();
            Thread.sleep(seconds * 1000L);
            long n = runs.sum();
            long cpu = cpuNanos() - cpuStart;
            double elapsed = (System.nanoTime() - start) / 1e9;
            go.set(false);
            for (Thread w : workers) {
                w.join();
            }
            System.out.printf("%.1f%n", n / elapsed);
            // the process's CPU time per run (all threads), on stderr: load-independent where runs/s is not
            System.err.printf("cpu_ms_per_run=%.2f%n", cpu / 1e6 / Math.max(1, n));
        }
    }
}
