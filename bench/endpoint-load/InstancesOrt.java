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
 * Instances as concurrent runs on one shared session vs one session per instance (decision 2026-11-30, "Instances are
 * concurrent runs on the one shared ONNX Runtime session"): THREADS threads run the model for SECONDS seconds, each
 * round alternating "shared" and "separate", with the appliance's session options (intra-op 1, inter-op 1).
 * Usage: java -cp onnxruntime-bundle.jar InstancesOrt.java PLUGIN.jar THREADS SECONDS BATCH ROUNDS
 */
public class InstancesOrt {
    public static void main(String[] args) throws Exception {
        String plugin = args[0];
        int threads = Integer.parseInt(args[1]);
        int seconds = Integer.parseInt(args[2]);
        int batch = Integer.parseInt(args[3]);
        int rounds = Integer.parseInt(args[4]);
        byte[] model;
        try (JarFile jar = new JarFile(plugin); InputStream in = jar.getInputStream(jar.getEntry("TOLLGATE-INF/model.onnx"))) {
            model = in.readAllBytes();
        }
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        OrtSession.SessionOptions options = new OrtSession.SessionOptions();
        options.setIntraOpNumThreads(1);
        options.setInterOpNumThreads(1);
        options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
        OrtSession[] sessions = new OrtSession[threads];
        for (int i = 0; i < threads; i++) {
            sessions[i] = env.createSession(model, options);
        }
        float[] x = new float[batch * 784];
        for (int i = 0; i < x.length; i++) {
            x[i] = (i % 255) / 255f;
        }
        for (int r = 1; r <= rounds; r++) {
            double shared = measure(env, sessions, true, threads, seconds, batch, x);
            double separate = measure(env, sessions, false, threads, seconds, batch, x);
            System.out.printf("round %d: batch %d, %d threads: shared session %.1f runs/s, one session per thread %.1f"
                    + " runs/s, shared/separate %.3f%n", r, batch, threads, shared, separate, shared / separate);
        }
        for (OrtSession s : sessions) {
            s.close();
        }
    }

    private static double measure(OrtEnvironment env, OrtSession[] sessions, boolean shared, int threads, int seconds,
                                  int batch, float[] x) throws Exception {
        LongAdder runs = new LongAdder();
        AtomicBoolean go = new AtomicBoolean(true);
        Thread[] workers = new Thread[threads];
        for (int t = 0; t < threads; t++) {
            OrtSession session = sessions[shared ? 0 : t];
            workers[t] = new Thread(() -> {
                try {
                    while (go.get()) {
                        try (OnnxTensor in = OnnxTensor.createTensor(env, FloatBuffer.wrap(x), new long[] {batch, 1, 28, 28});
                             OrtSession.Result r = session.run(Map.of("image", in))) {
                            runs.increment();
                        }
                    }
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            });
            workers[t].start();
        }
        Thread.sleep(1000);   // warm-up
        runs.reset();
        long start = System.nanoTime();
        Thread.sleep(seconds * 1000L);
        long n = runs.sum();
        double elapsed = (System.nanoTime() - start) / 1e9;
        go.set(false);
        for (Thread w : workers) {
            w.join();
        }
        return n / elapsed;
    }
}
