package dev.aggregator.http;

/**
 * The size limits of a request.
 *
 * @param maxBodyBytes the largest body, checked by the transport against Content-Length before
 *     reading and while reading a chunked body
 * @param maxEventsPerRequest the most events in one publish
 * @param maxNestingDepth the deepest nesting of JSON arrays and objects
 * @param maxStringLength the longest JSON string, in characters
 */
record Limits(
    long maxBodyBytes, int maxEventsPerRequest, int maxNestingDepth, int maxStringLength) {}
