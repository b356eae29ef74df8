package dev.aggregator.internal;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.UncheckedIOException;
import java.util.Map;

/** The one Jackson mapper of the library, configured once; thread-safe. */
public final class Json {
  /** Shared by every component: creating mappers is expensive and they are thread-safe. */
  public static final ObjectMapper MAPPER = new ObjectMapper();

  /** Reads numbers as exact decimals, for comparing values: 0.1 stays 0.1, not the double. */
  private static final ObjectMapper EXACT =
      JsonMapper.builder().enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS).build();

  private Json() {}

  /**
   * Whether two JSON texts hold the same value: objects with the same members in any order, arrays
   * with equal elements in the same order, numbers of equal value however spelled ({@code 1},
   * {@code 1.0} and {@code 1e0} are equal), equal strings, booleans and nulls. Equal texts are
   * equal without parsing; a text that is not JSON equals only itself.
   */
  public static boolean sameValue(String a, String b) {
    if (a.equals(b)) {
      return true;
    }
    try {
      return sameValue(EXACT.readTree(a), EXACT.readTree(b));
    } catch (JsonProcessingException e) {
      return false;
    }
  }

  private static boolean sameValue(JsonNode a, JsonNode b) {
    if (a.isNumber() && b.isNumber()) {
      return a.decimalValue().compareTo(b.decimalValue()) == 0;
    }
    if (a.getNodeType() != b.getNodeType() || a.size() != b.size()) {
      return false;
    }
    if (a.isObject()) {
      for (Map.Entry<String, JsonNode> member : a.properties()) {
        JsonNode other = b.get(member.getKey());
        if (other == null || !sameValue(member.getValue(), other)) {
          return false;
        }
      }
      return true;
    }
    if (a.isArray()) {
      for (int i = 0; i < a.size(); i++) {
        if (!sameValue(a.get(i), b.get(i))) {
          return false;
        }
      }
      return true;
    }
    return a.equals(b);
  }

  /** Serializes a payload object to its JSON text. */
  public static String write(JsonNode node) {
    try {
      return MAPPER.writeValueAsString(node);
    } catch (JsonProcessingException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Parses a stored payload back to a JSON object; the text was written by {@link #write}. */
  public static ObjectNode readObject(String json) {
    try {
      return (ObjectNode) MAPPER.readTree(json);
    } catch (JsonProcessingException e) {
      throw new UncheckedIOException("stored payload is not valid JSON", e);
    }
  }
}
