package dev.diffuse.pipeline;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import dev.diffuse.models.train.ModelObjective;
import dev.diffuse.models.train.NetworkDenoiser;
import dev.diffuse.models.train.TrainableModel;
import dev.diffuse.models.vae.AutoencoderKL;
import dev.diffuse.models.vae.AutoencoderKLConfig;
import dev.diffuse.models.vae.LatentSpace;
import dev.diffuse.models.vae.VaeCheckpoint;
import dev.diffuse.runtime.Device;
import dev.diffuse.runtime.MemoryBudget;
import dev.diffuse.runtime.MemoryBudgetException;
import dev.diffuse.runtime.Tensor;
import dev.diffuse.samplers.schedule.DiscreteSchedule;

/**
 * A loaded diffusion model that any number of threads may sample from. Requests are queued and coalesced into
 * batched forwards (dynamic batching: up to {@link PipelineOptions#maxBatch} images, waiting at most the batching
 * window for company); a request's images depend only on the request and its seed, never on what it was batched with.
 * Memory is estimated before anything is allocated and refused over the pipeline's limit; large requests run in
 * chunks of the batch size, so memory stays flat in n ({@link #stream}). Requests are cancelled through
 * {@link Future#cancel} or by interrupting the thread blocked in {@link #sample}; the check runs between network
 * evaluations. A failing request (bad input, cancellation, out of memory) leaves the pipeline fully usable.
 * <pre>{@code
 * try (DiffusionPipeline p = DiffusionPipeline.load(Path.of("pretrained/fashion-mnist-small"), Devices.select("auto"))) {
 *     SampleResult r = p.sample(SampleRequest.builder().n(16).seed(7).build());
 *     Files.write(Path.of("grid.png"), r.images().gridPng());
 * }
 * }</pre>
 */
public final class DiffusionPipeline implements AutoCloseable {
    private static final AtomicInteger THREADS = new AtomicInteger();

    private final ModelInfo info;
    private final PipelineOptions options;
    private final Engine engine;
    private final BatchQueue queue;
    private final Worker worker;
    private final Thread thread;
    private final long limitBytes;
    private final AtomicInteger outstanding = new AtomicInteger();
    private final AtomicLong heldResultBytes = new AtomicLong(), completed = new AtomicLong(), failed = new AtomicLong(), cancelled = new AtomicLong();
    private boolean closed;

    private DiffusionPipeline(ModelInfo info, PipelineOptions options, Engine engine, long limitBytes) {
        this.info = info;
        this.options = options;
        this.engine = engine;
        this.limitBytes = limitBytes;
        this.queue = new BatchQueue(options.maxBatch(), options.batchWindow().toNanos());
        this.worker = new Worker(queue, engine, options.observer());
        this.thread = Thread.ofPlatform().daemon().name("diffuse-pipeline-" + THREADS.incrementAndGet()).unstarted(worker);
        thread.start();
    }

    /**
     * Loads a model folder with the default options (batches of 64).
     * <pre>{@code
     * DiffusionPipeline p = DiffusionPipeline.load(Path.of("runs/fmnist"), Devices.select("auto"));
     * }</pre>
     *
     * @see #load(Path, Device, PipelineOptions)
     */
    public static DiffusionPipeline load(Path path, Device device) throws IOException {
        return load(path, device, PipelineOptions.defaults());
    }

    /**
     * Loads a diffusers UNet2DModel folder, one of Diffuse's checkpoints or a training run folder (its latest
     * checkpoint), of any objective ({@code objective.json}: epsilon, flow, consistency or a distilled consistency_ddpm), in
     * pixel space or in a VAE's latent space ({@code latent.json}: samples are decoded with the folder's VAE and cropped,
     * so requests get images). The memory it needs (model,
     * denoiser staging, one batch) is estimated first and refused with a one-line {@link MemoryBudgetException} over
     * the limit; nothing is allocated then.
     * <pre>{@code
     * PipelineOptions o = PipelineOptions.builder().maxBatch(32).maxMemoryBytes(1L << 30).build();
     * DiffusionPipeline p = DiffusionPipeline.load(Path.of("pretrained/fashion-mnist-small"), device, o);
     * }</pre>
     */
    public static DiffusionPipeline load(Path path, Device device, PipelineOptions options) throws IOException {
        Path folder = ModelFolders.resolve(path);
        ModelObjective objective = ModelObjective.read(folder);
        int nullClass = ObjectiveSamplers.nullClass(folder);
        LatentSpace latent = LatentSpace.read(folder);
        int[] netShape = ModelFolders.sampleShape(folder);
        AutoencoderKLConfig vaeCfg = latent == null ? null : VaeCheckpoint.readConfig(folder.resolve(latent.vae()));
        int[] shape = latent == null ? netShape : new int[]{vaeCfg.outChannels(), latent.crop(), latent.crop()};
        long per = Math.max(Tensor.numel(shape), Tensor.numel(netShape));
        int mb = options.maxBatch();
        long modelBytes = ModelFolders.bytesNeeded(folder, mb)
                + (latent == null ? 0 : AutoencoderKL.bytesNeeded(vaeCfg, mb, false) + 4L * mb * Tensor.numel(vaeCfg.imageShape()));
        long staging = 4L * mb * (2 * per + 4) + (2 << 20) + (objective.kind() == ModelObjective.Kind.CONSISTENCY ? 4L * mb * 2 * per : 0);
        long fixed = modelBytes + staging + Engine.batchBytes(mb, per, nullClass >= 0);
        long limit = options.maxMemoryBytes() != null ? options.maxMemoryBytes() : MemoryBudget.limit(device);
        String what = "a pipeline for " + folder + " with batches of " + mb;
        if (fixed > limit)
            throw new MemoryBudgetException(what + " needs about " + MemoryBudget.size(fixed) + " (model " + MemoryBudget.size(modelBytes)
                    + ", one batch " + MemoryBudget.size(fixed - modelBytes) + "), over its memory limit of " + MemoryBudget.size(limit)
                    + "; use a smaller maxBatch (--batch) or a larger limit");
        MemoryBudget.require(device, what, fixed, "use a smaller maxBatch (--batch)");
        TrainableModel net = ModelFolders.load(folder, device, mb, false);
        AutoencoderKL vae = null;
        try {
            if (latent != null) vae = latent.loadVae(folder, device, mb);
            int classes = net.numClasses();
            if (objective.kind() == ModelObjective.Kind.CONSISTENCY && classes > 0)
                throw new IllegalArgumentException(folder + ": class-conditional consistency models are not supported in this version");
            if (nullClass >= classes)
                throw new IllegalArgumentException(folder + "/" + ModelObjective.FILE + ": null_class " + nullClass + " is not one of the model's "
                        + classes + " class-embedding rows");
            NetworkDenoiser den = ObjectiveSamplers.denoiser(net, objective, DiscreteSchedule.ddpmDefault(), -1);
            Engine engine = new Engine(device, net, den, objective, nullClass, latent, vae);
            ModelInfo info = new ModelInfo(folder, ModelFolders.className(folder), objective, shape, classes, nullClass,
                    ModelFolders.parameterCount(net), mb, ObjectiveSamplers.defaultSampler(objective), ObjectiveSamplers.defaultSteps(objective), fixed,
                    latent == null ? null : netShape);
            return new DiffusionPipeline(info, options, engine, limit);
        } catch (RuntimeException | IOException e) {
            net.close();
            if (vae != null) vae.close();
            throw e;
        }
    }

    /**
     * What this pipeline serves: folder, objective, sample shape, classes, defaults.
     * <pre>{@code
     * int[] shape = pipeline.info().sampleShape();   // {1, 28, 28}
     * }</pre>
     */
    public ModelInfo info() { return info; }

    /**
     * The device the model runs on.
     * <pre>{@code
     * System.out.println(pipeline.device().name());
     * }</pre>
     */
    public Device device() { return engine.device; }

    /**
     * The request with every default filled in and checked against this model (sampler fits the objective, class
     * label in range, guidance possible); a problem is a one-line IllegalArgumentException naming the field.
     * <pre>{@code
     * SampleRequest full = pipeline.resolve(SampleRequest.of(4));   // sampler "ddim", steps 25, a random seed, ...
     * }</pre>
     */
    public SampleRequest resolve(SampleRequest request) { return Plans.of(request, info, engine.objective).request(); }

    /**
     * The class each image of the request is drawn with (image k: index firstIndex + k of its run): the request's class
     * label, else (class-conditional models) the classes cycled by index, skipping the model's "no class" id; -1 for an
     * unconditional model.
     * <pre>{@code
     * int[] k = pipeline.classesOf(SampleRequest.builder().n(4).seed(1).firstIndex(12).build());   // {2, 3, 4, 5} for 10 classes
     * }</pre>
     */
    public int[] classesOf(SampleRequest request) {
        Plan plan = Plans.of(request, info, engine.objective);
        int[] k = new int[request.n()];
        for (int i = 0; i < k.length; i++) k[i] = plan.labelOf(request.firstIndex() + i);
        return k;
    }

    /**
     * Bytes a request may hold while it runs: one batch of its images on the device (already covered by the pipeline's
     * fixed share) plus, when its images are collected ({@link #sample}, {@link #submit}), all of them on the host.
     * <pre>{@code
     * long bytes = pipeline.estimateBytes(SampleRequest.of(20_000));   // about 63 MB of 28x28 images + one batch
     * }</pre>
     */
    public long estimateBytes(SampleRequest request) {
        long per = Tensor.numel(info.sampleShape());
        return Engine.batchBytes(Math.min(request.n(), info.maxBatch()), per, request.guidance() != null) + 4L * request.n() * per;
    }

    /**
     * Draws the request's images, blocking until they are done. Interrupting the calling thread cancels the request
     * (CancellationException, interrupt status kept); a failure is rethrown as it happened (one-line messages).
     * <pre>{@code
     * Images im = pipeline.sample(SampleRequest.builder().n(64).seed(1).build()).images();
     * }</pre>
     */
    public SampleResult sample(SampleRequest request) { return sample(request, SampleListener.NONE); }

    /**
     * {@link #sample(SampleRequest)} with a listener for progress and finished chunks.
     * <pre>{@code
     * pipeline.sample(SampleRequest.of(256), new SampleListener() {
     *     public void onProgress(Progress p) { System.err.printf("%.0f%%%n", 100 * p.fraction()); }
     * });
     * }</pre>
     */
    public SampleResult sample(SampleRequest request, SampleListener listener) { return await(submit(request, listener)); }

    /**
     * Queues the request and returns at once; {@code future.cancel(true)} stops it between network evaluations.
     * Refusals (bad request, over the memory limit, queue full, pipeline closed) are thrown here, before anything is
     * queued or allocated.
     * <pre>{@code
     * Future<SampleResult> f = pipeline.submit(SampleRequest.of(8));
     * SampleResult r = f.get(30, TimeUnit.SECONDS);
     * }</pre>
     */
    public Future<SampleResult> submit(SampleRequest request) { return submit(request, SampleListener.NONE); }

    /**
     * {@link #submit(SampleRequest)} with a listener (called on the worker thread: keep it quick).
     * <pre>{@code
     * Future<SampleResult> f = pipeline.submit(SampleRequest.of(8), new SampleListener() {
     *     public void onImages(int first, Images chunk) { System.out.println(chunk.count() + " more"); }
     * });
     * }</pre>
     */
    public Future<SampleResult> submit(SampleRequest request, SampleListener listener) {
        return enqueue(request, listener, false).future;
    }

    /**
     * Draws the request's images and hands them to {@code listener.onImages} chunk by chunk, in order, on the calling
     * thread; only a couple of chunks are ever held, so memory stays flat however large n is. Blocks until done;
     * returns the result without images. An exception from the listener cancels the request and is rethrown;
     * interrupting the thread cancels it too.
     * <pre>{@code
     * try (var csv = Files.newBufferedWriter(Path.of("s.csv"))) {
     *     pipeline.stream(SampleRequest.of(20_000), new SampleListener() {
     *         public void onImages(int first, Images chunk) { writeRows(csv, chunk); }
     *     });
     * }
     * }</pre>
     */
    public SampleResult stream(SampleRequest request, SampleListener listener) {
        Job job = enqueue(request, listener, true);
        try {
            while (!(job.future.isDone() && job.handoff.isEmpty())) {
                Job.Chunk c = job.handoff.poll(50, TimeUnit.MILLISECONDS);
                if (c == null) continue;
                queue.wake(); // room in the hand-off: the job may take rows again
                listener.onImages(c.first(), c.images());
            }
        } catch (InterruptedException e) {
            job.future.cancel(true);
            Thread.currentThread().interrupt();
            throw new CancellationException("interrupted: the request was cancelled");
        } catch (RuntimeException | Error e) {
            job.future.cancel(true);
            throw e;
        }
        return await(job.future);
    }

    /**
     * The pipeline's counters now.
     * <pre>{@code
     * System.out.println(pipeline.stats().meanBatchRows() + " images per batch");
     * }</pre>
     */
    public PipelineStats stats() {
        return new PipelineStats(outstanding.get(), completed.get(), failed.get(), cancelled.get(), worker.images.get(),
                worker.batches.get(), worker.batchedRequests.get());
    }

    /**
     * Stops taking requests, finishes every queued one (graceful shutdown; cancel their futures first to stop sooner),
     * then frees the model. Idempotent.
     * <pre>{@code
     * pipeline.close();
     * }</pre>
     */
    @Override
    public void close() {
        synchronized (this) {
            if (closed) return;
            closed = true;
        }
        queue.close();
        if (Thread.currentThread() != thread) {
            boolean interrupted = false;
            while (thread.isAlive()) {
                try {
                    thread.join();
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
            if (interrupted) Thread.currentThread().interrupt();
        }
        engine.close();
    }

    private Job enqueue(SampleRequest request, SampleListener listener, boolean stream) {
        if (listener == null) throw new IllegalArgumentException("listener is null; use SampleListener.NONE");
        if (queue.isClosed()) throw new IllegalStateException("the pipeline is closed: it takes no new requests");
        Plan plan = Plans.of(request, info, engine.objective);
        long per = Tensor.numel(info.sampleShape());
        if (!stream) checkResultMemory(plan.request(), per);
        if (outstanding.incrementAndGet() > options.maxQueuedRequests()) {
            outstanding.decrementAndGet();
            throw new QueueFullException("the pipeline has " + options.maxQueuedRequests() + " requests waiting or running (its limit); retry later");
        }
        Job job = null;
        try {
            job = new Job(plan, listener, info.sampleShape(), stream, j -> queue.wake(), this::ended);
            heldResultBytes.addAndGet(job.heldBytes);
            queue.add(job);
        } catch (RuntimeException | OutOfMemoryError e) {
            outstanding.decrementAndGet();
            if (job != null) heldResultBytes.addAndGet(-job.heldBytes);
            throw e;
        }
        return job;
    }

    /** Collected images are held until the request completes: refuse what would not fit, before queueing anything. */
    private void checkResultMemory(SampleRequest r, long per) {
        long bytes = 4L * r.n() * per, held = heldResultBytes.get();
        String what = String.format("request n = %d holds its %d images of %s until it completes: %s", r.n(), r.n(),
                Arrays.toString(info.sampleShape()), MemoryBudget.size(bytes));
        String wayOut = "stream the images (DiffusionPipeline.stream; the CLI streams) or lower n";
        if ((long) r.n() * per > Integer.MAX_VALUE - 16)
            throw new MemoryBudgetException(what + ", more values than one Java array holds; " + wayOut);
        if (info.deviceBytes() + held + bytes > limitBytes)
            throw new MemoryBudgetException(what + (held > 0 ? " (" + MemoryBudget.size(held) + " held by requests in progress)" : "")
                    + ", over this pipeline's memory limit of " + MemoryBudget.size(limitBytes) + " (model and one batch: "
                    + MemoryBudget.size(info.deviceBytes()) + "); " + wayOut);
        Runtime rt = Runtime.getRuntime();
        long heapFree = rt.maxMemory() - (rt.totalMemory() - rt.freeMemory());
        if (bytes > heapFree / 2)
            throw new MemoryBudgetException(what + ", more than half the free Java heap (" + MemoryBudget.size(heapFree) + "; -Xmx); " + wayOut);
    }

    private void ended(Job job, PipelineObserver.Outcome outcome) {
        outstanding.decrementAndGet();
        heldResultBytes.addAndGet(-job.heldBytes);
        (switch (outcome) {
            case COMPLETED -> completed;
            case FAILED -> failed;
            case CANCELLED -> cancelled;
        }).incrementAndGet();
        if (outcome == PipelineObserver.Outcome.CANCELLED) queue.wake();
        long now = System.nanoTime(), started = job.startedNanos;
        try {
            options.observer().onRequestDone(job.plan.request(), outcome, started < 0 ? -1 : started - job.submittedNanos, now - job.submittedNanos);
        } catch (RuntimeException ignored) {
            // a metrics hook must not change the request's outcome
        }
    }

    /** Waits for a future, turning interrupts into cancellation and rethrowing the request's own failure. */
    private static SampleResult await(Future<SampleResult> f) {
        try {
            return f.get();
        } catch (InterruptedException e) {
            f.cancel(true);
            Thread.currentThread().interrupt();
            throw new CancellationException("interrupted: the request was cancelled");
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            if (c instanceof RuntimeException re) throw re;
            if (c instanceof Error err) throw err;
            throw new IllegalStateException(c.getMessage(), c);
        }
    }

    static long randomSeed() { return ThreadLocalRandom.current().nextLong() & Long.MAX_VALUE; }
}
