package io.tollgate.engine.tensorrt.internal;

import org.bytedeco.tensorrt.nvinfer.ILogger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** TensorRT's log, into SLF4J (TensorRT calls back on the building or running thread). Verbose messages dropped. */
final class TrtLogger extends ILogger {
    private static final Logger LOG = LoggerFactory.getLogger("io.tollgate.engine.tensorrt.TensorRT");

    @Override
    public void log(Severity severity, String message) {
        switch (severity) {
            case kINTERNAL_ERROR, kERROR -> LOG.error("{}", message);
            case kWARNING -> LOG.warn("{}", message);
            case kINFO -> LOG.debug("{}", message);
            default -> { }
        }
    }
}
