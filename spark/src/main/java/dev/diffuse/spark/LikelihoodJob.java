package dev.diffuse.spark;

import java.util.ArrayList;
import java.util.List;

import org.apache.spark.sql.SparkSession;

import dev.diffuse.models.data.Dataset;
import dev.diffuse.pipeline.eval.ImageLikelihood;
import dev.diffuse.runtime.Device;
import scala.Tuple2;

/**
 * PF-ODE bits/dim of images 0..n-1 of a data set ({@link ImageLikelihood}) split across executors: each task computes
 * the log-densities of its index range, a batch at a time, on its executor's shared likelihood model; image i's
 * dequantisation noise and probe are keyed by i, so its value is the one a single run gives it. The driver collects
 * the n values (4 bytes each), puts them in index order and takes the mean in that order: the same bits as one
 * machine's {@code diffuse likelihood}.
 */
final class LikelihoodJob {
    private LikelihoodJob() {}

    /**
     * @param bitsPerDim mean bits per dimension
     * @param meanNll    mean -log p in nats
     * @param n          images
     * @param logp       each image's log p (nats), in index order
     */
    record Result(double bitsPerDim, double meanNll, int n, float[] logp) {}

    static Result run(SparkSession spark, ModelRef model, String data, String dataDir, int n, ImageLikelihood.Settings settings,
                      String deviceSpec, int maxBatch, int partitions) {
        Dataset ds = ExecutorResources.dataset(data, dataDir);
        int count = n > 0 ? n : ds.size();
        int per = ds.sampleNumel();
        List<Tuple2<Long, Float>> values = ImageSource.ranges(spark, count, partitions).flatMap(r -> {
            Device device = ExecutorResources.device(deviceSpec);
            ImageLikelihood lik = ExecutorResources.likelihood(model, device, maxBatch);
            Dataset d = ExecutorResources.dataset(data, dataDir);
            List<Tuple2<Long, Float>> out = new ArrayList<>(r.count());
            for (IndexRanges.Range c : IndexRanges.chunks(r, maxBatch)) {
                float[] logp;
                synchronized (lik) { // one model per JVM: its passes run one at a time anyway
                    logp = lik.logDensity(d, c.first(), c.count(), settings);
                }
                for (int i = 0; i < logp.length; i++) out.add(new Tuple2<>(c.first() + i, logp[i]));
            }
            return out.iterator();
        }).collect();
        if (values.size() != count) throw new IllegalStateException("likelihood: " + values.size() + " values came back for " + count + " images");
        float[] logp = new float[count];
        boolean[] seen = new boolean[count];
        for (Tuple2<Long, Float> v : values) {
            int i = Math.toIntExact(v._1());
            if (seen[i]) throw new IllegalStateException("likelihood: image " + i + " came back twice");
            seen[i] = true;
            logp[i] = v._2();
        }
        double nll = ImageLikelihood.meanNll(logp);
        return new Result(ImageLikelihood.bitsPerDim(nll, per), nll, count, logp);
    }
}
