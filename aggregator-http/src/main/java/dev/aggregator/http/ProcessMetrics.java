package dev.aggregator.http;

import java.io.IOException;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryUsage;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The JVM's and the process's own metrics, under the names Prometheus's Java client gives them
 * ({@code process_*}, {@code jvm_*}), read from the JDK's management beans and, on Linux, {@code
 * /proc/self}: no library, nothing kept between scrapes.
 */
final class ProcessMetrics {
  private ProcessMetrics() {}

  static void write(StringBuilder out) {
    java.lang.management.OperatingSystemMXBean os = ManagementFactory.getOperatingSystemMXBean();
    if (os instanceof com.sun.management.OperatingSystemMXBean sun) {
      Prometheus.header(out, "process_cpu_seconds_total", "CPU time of the process.", "counter");
      out.append("process_cpu_seconds_total ")
          .append(Prometheus.format(sun.getProcessCpuTime() / 1e9))
          .append('\n');
    }
    if (os instanceof com.sun.management.UnixOperatingSystemMXBean unix) {
      Prometheus.gauge(
          out, "process_open_fds", "Open file descriptors.", unix.getOpenFileDescriptorCount());
      Prometheus.gauge(
          out, "process_max_fds", "The most file descriptors.", unix.getMaxFileDescriptorCount());
    }
    long rss = residentBytes();
    if (rss >= 0) {
      Prometheus.gauge(out, "process_resident_memory_bytes", "Resident memory.", rss);
    }
    Prometheus.header(
        out, "process_start_time_seconds", "Start of the process, seconds since 1970.", "gauge");
    out.append("process_start_time_seconds ")
        .append(Prometheus.format(ManagementFactory.getRuntimeMXBean().getStartTime() / 1000.0))
        .append('\n');
    MemoryUsage heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage();
    MemoryUsage nonHeap = ManagementFactory.getMemoryMXBean().getNonHeapMemoryUsage();
    memory(out, "jvm_memory_bytes_used", "Memory used.", heap.getUsed(), nonHeap.getUsed());
    memory(
        out,
        "jvm_memory_bytes_committed",
        "Memory committed.",
        heap.getCommitted(),
        nonHeap.getCommitted());
    memory(
        out, "jvm_memory_bytes_max", "Memory limit (-1: none).", heap.getMax(), nonHeap.getMax());
    Prometheus.gauge(
        out,
        "jvm_threads_current",
        "Live threads.",
        ManagementFactory.getThreadMXBean().getThreadCount());
    Prometheus.header(
        out, "jvm_gc_collection_seconds", "Time in garbage collections, by collector.", "summary");
    for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
      String label = "{gc=\"" + Prometheus.escape(gc.getName()) + "\"} ";
      out.append("jvm_gc_collection_seconds_count")
          .append(label)
          .append(Math.max(0, gc.getCollectionCount()))
          .append('\n');
      out.append("jvm_gc_collection_seconds_sum")
          .append(label)
          .append(Prometheus.format(Math.max(0, gc.getCollectionTime()) / 1000.0))
          .append('\n');
    }
  }

  private static void memory(StringBuilder out, String name, String help, long heap, long other) {
    Prometheus.header(out, name, help, "gauge");
    out.append(name).append("{area=\"heap\"} ").append(heap).append('\n');
    out.append(name).append("{area=\"nonheap\"} ").append(other).append('\n');
  }

  /** VmRSS from /proc/self/status, in bytes; -1 where there is no such file. */
  private static long residentBytes() {
    Path status = Path.of("/proc/self/status");
    if (!Files.isReadable(status)) {
      return -1;
    }
    try {
      for (String line : Files.readAllLines(status)) {
        if (line.startsWith("VmRSS:")) {
          String[] parts = line.substring(6).strip().split("\\s+");
          return Long.parseLong(parts[0]) * 1024; // kB
        }
      }
    } catch (IOException | NumberFormatException e) {
      return -1;
    }
    return -1;
  }
}
