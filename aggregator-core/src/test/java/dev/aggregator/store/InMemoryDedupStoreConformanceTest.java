package dev.aggregator.store;

class InMemoryDedupStoreConformanceTest extends DedupStoreConformanceTest {
  @Override
  protected DedupStore openEmptyStore() {
    return new InMemoryDedupStore();
  }
}
