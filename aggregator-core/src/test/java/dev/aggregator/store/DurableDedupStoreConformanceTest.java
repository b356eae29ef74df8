package dev.aggregator.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.aggregator.Claim;
import dev.aggregator.ClaimStats;
import dev.aggregator.Outcome;
import dev.aggregator.StoreException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The contract of a durable {@link DedupStore}: the whole {@link DedupStoreConformanceTest}, plus
 * restarts. Reopening the store must keep every counter, never bring back a removed event and never
 * forget the key of a stored one.
 */
public abstract class DurableDedupStoreConformanceTest extends DedupStoreConformanceTest {

  /** Opens the store again on the data of the last {@link #openEmptyStore()}, which is closed. */
  protected abstract DedupStore openSameStore() throws Exception;

  /**
   * Makes every later append that holds an event with id {@code eventId} fail inside its
   * transaction, after the batch's earlier events and topics were written (a trigger, say), for the
   * test that a failed batch is rolled back whole.
   */
  protected abstract void failAppendsOf(String eventId) throws Exception;

  /** Closes the store and opens it again, with {@code retention} if not null. */
  protected void restart(Retention retention) throws Exception {
    store.close();
    store = openSameStore();
    if (retention != null) {
      store.retain(retention);
    }
  }

  @Test
  void append_batchFailingInsideItsTransaction_isRolledBackWhole() throws Exception {
    store.append(List.of(event("t", "before")));
    StoreStats before = store.stats();
    failAppendsOf("poison");
    List<PendingEvent> batch =
        List.of(event("t", "x1"), event("new", "x2"), event("t", "before"), event("t", "poison"));

    assertThrows(StoreException.class, () -> store.append(batch));
    assertEquals(before, store.stats(), "counters of a failed batch");
    assertEquals(List.of("before"), readable("t"));
    assertEquals(List.of(), readable("new"));

    assertEquals(
        List.of(Outcome.ACCEPTED, Outcome.ACCEPTED, Outcome.DUPLICATE),
        store.append(batch.subList(0, 3)),
        "keys of the failed batch must still be new");
    assertCountersExact();
  }

  @Test
  void reopen_afterClose_keepsEventsAndCounters_takesNewAppends() throws Exception {
    store.append(List.of(event("t", "a"), event("u", "b"), event("t", "a")));
    StoreStats before = assertCountersExact();
    store.close();
    store.close();
    store = openSameStore();
    store.probe();
    assertEquals(before, assertCountersExact());
    assertEquals(List.of("a"), readable("t"));
    assertEquals(
        List.of(Outcome.DUPLICATE, Outcome.ACCEPTED),
        store.append(List.of(event("u", "b"), event("u", "c"))));
    assertEquals(5, assertCountersExact().received());
  }

  @Test
  void restart_insideTheWindow_keysStayDuplicates_pastIt_acceptedAgain() throws Exception {
    Retention retention = new Retention(AGE, Long.MAX_VALUE, clock);
    store.retain(retention);
    Instant r = T0.plusSeconds(1);
    store.append(List.of(receivedAt("t", "a", r), receivedAt("t", "b", r)));
    store.append(List.of(event("t", "a", "{\"v\":\"other\"}"))); // a conflict, counted

    clock.set(r.plus(AGE).minusNanos(1));
    restart(retention);
    assertEquals(List.of("a", "b"), readable("t"));
    assertEquals(List.of(Outcome.DUPLICATE), store.append(List.of(receivedAt("t", "b", r))));

    clock.set(r.plus(AGE));
    restart(retention);
    assertEquals(List.of(), readable("t"), "expired events returned after a restart");
    Instant again = clock.instant();
    assertEquals(List.of(Outcome.ACCEPTED), store.append(List.of(receivedAt("t", "a", again))));
    StoreStats before = assertCountersExact();

    restart(retention);
    StoreStats after = assertCountersExact();
    assertEquals(before, after);
    assertEquals(5, after.received());
    assertEquals(3, after.uniqueProcessed());
    assertEquals(2, after.duplicateDropped());
    assertEquals(2, after.expired());
    assertEquals(1, after.payloadConflicts());
    assertEquals(List.of("a"), readable("t"));
    assertEquals(List.of(Outcome.DUPLICATE), store.append(List.of(receivedAt("t", "a", again))));
  }

  @Test
  void restart_withoutRetention_removedEventsStayRemoved_storedKeysStayDuplicates()
      throws Exception {
    store.retain(new Retention(null, 100, clock));
    for (int b = 0; b < 5; b++) {
      List<PendingEvent> batch = new ArrayList<>();
      for (int i = 0; i < 60; i++) {
        batch.add(event("t" + (i % 2), "k" + (b * 60 + i)));
      }
      store.append(batch);
    }
    StoreStats before = assertCountersExact();
    assertEquals(100, before.stored());
    assertEquals(200, before.expired());

    restart(null); // no retention now: nothing more expires, nothing removed comes back
    assertEquals(before, assertCountersExact());
    List<PendingEvent> again = new ArrayList<>();
    for (int k = 0; k < 300; k++) {
      again.add(event("t" + (k % 60 % 2), "k" + k));
    }
    List<Outcome> outcomes = store.append(again);
    for (int k = 0; k < 300; k++) {
      assertEquals(k < 200 ? Outcome.ACCEPTED : Outcome.DUPLICATE, outcomes.get(k), "k" + k);
    }
    StoreStats after = assertCountersExact();
    assertEquals(300, after.stored());
    assertEquals(200, after.expired());
  }

  @Test
  void restart_inTheMiddleOfRemovingABacklog_finishesWithExactCounters() throws Exception {
    Retention retention = new Retention(AGE, Long.MAX_VALUE, clock);
    store.retain(retention);
    // More expired events than one step removes (4,096 in the SQLite store).
    for (int b = 0; b < 12; b++) {
      List<PendingEvent> batch = new ArrayList<>();
      for (int i = 0; i < 500; i++) {
        batch.add(receivedAt("t" + (i % 4), "k" + (b * 500 + i), T0.plusSeconds(b)));
      }
      store.append(batch);
    }
    clock.set(T0.plus(AGE).plusSeconds(9)); // batches 0 to 9 expired
    store.append(List.of()); // one step, perhaps not all of it
    restart(retention);
    assertEquals(1_000, readableCount());
    drainExpiry();
    StoreStats s = assertCountersExact();
    assertEquals(1_000, s.stored());
    assertEquals(5_000, s.expired());
    restart(retention);
    assertEquals(s, assertCountersExact());
    assertEquals(
        List.of(Outcome.ACCEPTED, Outcome.DUPLICATE),
        store.append(List.of(event("t1", "k4997"), event("t1", "k5001"))));
  }

  @Test
  void restart_claimsAndTheirCountersSurvive_leaseRunsOnAfterIt() throws Exception {
    claim("t", "released", "A", T0);
    store.endClaim("t", "released", "A", false);
    claim("t", "held", "A", T0);
    restart(null);
    assertEquals(new ClaimStats(1, 0, 1, 0), store.claimStats());
    assertEquals(
        new ClaimState(Claim.Status.IN_PROGRESS, T0.plus(LEASE)),
        claim("t", "held", "B", T0.plusSeconds(1)));
    assertEquals(Claim.Status.ACQUIRED, claim("t", "held", "B", T0.plus(LEASE)).status());
    store.append(List.of(event("t", "held")));
    store.endClaim("t", "held", "B", true);
    restart(null);
    assertEquals(new ClaimStats(0, 1, 1, 1), store.claimStats());
    assertEquals(ClaimState.DUPLICATE, claim("t", "held", "C", T0.plus(LEASE).plus(LEASE)));
  }
}
