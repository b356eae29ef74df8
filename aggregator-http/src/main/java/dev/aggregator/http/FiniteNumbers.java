package dev.aggregator.http;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.NumericNode;
import com.fasterxml.jackson.databind.node.ValueNode;

/**
 * A node factory that refuses a JSON number outside the range of a double ({@code 1e999999}):
 * Jackson would read it as Infinity and write it back as the string {@code "Infinity"}, silently
 * changing the published payload. Such a body is answered 400 invalid_json instead. (Reading floats
 * as BigDecimal instead would keep them exact, but hands every later {@code asLong()} a number like
 * {@code 1e999999999} whose conversion takes minutes: a denial of service.)
 */
final class FiniteNumbers extends JsonNodeFactory {
  private static final long serialVersionUID = 1L;

  static final FiniteNumbers INSTANCE = new FiniteNumbers();

  private FiniteNumbers() {
    super();
  }

  @Override
  public NumericNode numberNode(double v) {
    check(v);
    return super.numberNode(v);
  }

  @Override
  public ValueNode numberNode(Double value) {
    if (value != null) {
      check(value);
    }
    return super.numberNode(value);
  }

  @Override
  public NumericNode numberNode(float v) {
    check(v);
    return super.numberNode(v);
  }

  private static void check(double v) {
    if (!Double.isFinite(v)) {
      throw new HttpError(
          400,
          "invalid_json",
          "request body is not valid JSON for this server: a number is outside the range of a"
              + " 64-bit float (at most about 1.8e308)");
    }
  }
}
