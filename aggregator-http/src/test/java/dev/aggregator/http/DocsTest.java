package dev.aggregator.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The documentation against the repository: README.md stays short and keeps its two commands, every
 * relative link of the Markdown pages resolves (files and #anchors), and docs/http-api.md names the
 * same routes, statuses per route and error codes as the OpenAPI document the server serves. Reads
 * the files from the project root, found by walking up from the working directory.
 */
class DocsTest {
  private static final Path ROOT = projectRoot();
  private static final Path HTTP_API = ROOT.resolve("docs/http-api.md");
  private static final Path OPENAPI =
      ROOT.resolve("aggregator-http/src/main/resources/dev/aggregator/http/ui/openapi.json");

  private static final Pattern LINK = Pattern.compile("!?\\[[^\\]]*\\]\\(([^)\\s]+)[^)]*\\)");
  private static final Pattern REFERENCE = Pattern.compile("^\\s*\\[[^\\]]+\\]:\\s*(\\S+)");
  private static final Pattern ROUTE =
      Pattern.compile("(GET|POST|PUT|DELETE|PATCH|HEAD|OPTIONS) (/\\S*)");
  private static final Pattern STATUSES = Pattern.compile("\\d{3}(\\s*,\\s*\\d{3})*");
  private static final Set<String> METHODS =
      Set.of("get", "post", "put", "delete", "patch", "head", "options");

  /** The directory holding both README.md and a pom.xml with modules: the reactor's root. */
  static Path projectRoot() {
    for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
      Path pom = dir.resolve("pom.xml");
      if (Files.isRegularFile(dir.resolve("README.md"))
          && Files.isRegularFile(pom)
          && read(pom).contains("<modules>")) {
        return dir;
      }
    }
    throw new IllegalStateException(
        "no directory above "
            + Path.of("").toAbsolutePath()
            + " holds README.md and the parent pom");
  }

  @Test
  void readme_isShortAndKeepsTheBuildAndTestCommands() {
    String readme = read(ROOT.resolve("README.md"));
    long lines = readme.lines().count();
    assertTrue(lines <= 200, "README.md has " + lines + " lines; at most 200");
    for (String command :
        List.of(
            "mvn -q package -DskipTests && java -jar aggregator-server/target/aggregator-server.jar",
            "mvn verify")) {
      assertTrue(
          readme.lines().anyMatch(l -> l.strip().equals(command)),
          "README.md has no line that is exactly: " + command);
    }
  }

  @Test
  void markdownPages_everyRelativeLinkResolves() {
    List<String> broken = new ArrayList<>();
    for (Path page : pages()) {
      for (String target : links(page)) {
        String problem = problem(page, target);
        if (problem != null) {
          broken.add(ROOT.relativize(page) + ": (" + target + ") " + problem);
        }
      }
    }
    assertTrue(broken.isEmpty(), "broken links:\n" + String.join("\n", broken));
  }

  @Test
  void httpApi_namesTheRoutesOfTheOpenApiDocument() {
    Set<String> documented = new TreeSet<>();
    for (String line : prose(HTTP_API)) {
      String name = routeName(line);
      if (name != null) {
        documented.add(name);
      }
    }
    assertEquals(
        openApiRoutes().keySet(),
        documented,
        "the routes of openapi.json and the 'METHOD /path' headings and first table cells of"
            + " docs/http-api.md");
  }

  @Test
  void httpApi_routeTableListsTheStatusesOfTheOpenApiDocument() {
    Map<String, Set<String>> documented = new TreeMap<>();
    for (String line : prose(HTTP_API)) {
      List<String> cells = cells(line);
      String name = routeName(line);
      if (name != null && cells.size() > 1 && STATUSES.matcher(cells.get(1)).matches()) {
        documented.put(
            name,
            Stream.of(cells.get(1).split(","))
                .map(String::strip)
                .collect(Collectors.toCollection(TreeSet::new)));
      }
    }
    assertEquals(
        openApiRoutes(),
        documented,
        "the statuses per route of openapi.json and of the route table of docs/http-api.md");
  }

  @Test
  void httpApi_namesEveryErrorCodeOfTheOpenApiDocument() {
    Set<String> codes = new TreeSet<>();
    collectErrorCodes(openApi(), codes);
    assertTrue(codes.size() > 5, "too few error codes found in openapi.json: " + codes);
    String doc = read(HTTP_API);
    Set<String> missing =
        codes.stream()
            .filter(c -> !doc.contains("`" + c + "`"))
            .collect(Collectors.toCollection(TreeSet::new));
    assertTrue(
        missing.isEmpty(), "error codes of openapi.json not in docs/http-api.md: " + missing);

    Set<String> tabled = new TreeSet<>();
    boolean inErrors = false;
    boolean inBody = false; // below the table's |---| line
    for (String line : prose(HTTP_API)) {
      if (line.startsWith("#")) {
        inErrors = line.strip().equals("## Errors");
        inBody = false;
      } else if (inErrors && line.strip().startsWith("|---")) {
        inBody = true;
      } else if (inErrors && inBody) {
        List<String> cells = cells(line);
        if (!cells.isEmpty() && cells.get(0).matches("`[a-z_]+`")) {
          tabled.add(cells.get(0).replace("`", ""));
        }
      }
    }
    assertEquals(codes, tabled, "the error codes of openapi.json and the Errors table");
  }

  // ---- the pages and their links ----

  private static List<Path> pages() {
    List<Path> pages = new ArrayList<>();
    pages.add(ROOT.resolve("README.md"));
    pages.add(ROOT.resolve("RELIABILITY.md"));
    pages.add(ROOT.resolve("aggregator-bench/RESULTS.md"));
    try (Stream<Path> docs = Files.list(ROOT.resolve("docs"))) {
      docs.filter(p -> p.toString().endsWith(".md")).sorted().forEach(pages::add);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    assertTrue(pages.size() > 3, "no pages under docs/");
    return pages;
  }

  /** The link targets of a page, outside code blocks and code spans. */
  static List<String> links(Path page) {
    List<String> targets = new ArrayList<>();
    for (String line : prose(page)) {
      String text = line.replaceAll("`[^`]*`", "");
      Matcher m = LINK.matcher(text);
      while (m.find()) {
        targets.add(m.group(1));
      }
      Matcher r = REFERENCE.matcher(text);
      if (r.find()) {
        targets.add(r.group(1));
      }
    }
    return targets;
  }

  /** Why a link does not resolve, or {@code null} if it does (or is not relative). */
  private static String problem(Path page, String target) {
    if (target.contains("://") || target.startsWith("mailto:")) {
      return null;
    }
    int hash = target.indexOf('#');
    String file = hash < 0 ? target : target.substring(0, hash);
    String anchor = hash < 0 ? null : target.substring(hash + 1);
    Path resolved = file.isEmpty() ? page : page.getParent().resolve(file).normalize();
    if (!resolved.startsWith(ROOT)) {
      return "points outside the repository";
    }
    if (!Files.exists(resolved)) {
      return "no such file";
    }
    if (anchor != null && resolved.toString().endsWith(".md")) {
      if (!anchors(resolved).contains(anchor)) {
        return "no heading with the anchor #" + anchor;
      }
    }
    return null;
  }

  /** The anchors GitHub gives the headings of a page. */
  static Set<String> anchors(Path page) {
    Set<String> anchors = new TreeSet<>();
    Map<String, Integer> seen = new HashMap<>();
    for (String line : prose(page)) {
      if (!line.matches("#{1,6} .*")) {
        continue;
      }
      String text = line.replaceFirst("#{1,6} ", "").strip();
      text = text.replaceAll("\\[([^\\]]*)\\]\\([^)]*\\)", "$1"); // a link: its text
      String slug =
          text.toLowerCase(Locale.ROOT).replaceAll("[^\\p{L}\\p{N} _-]", "").replace(' ', '-');
      int n = seen.merge(slug, 1, Integer::sum);
      anchors.add(n == 1 ? slug : slug + "-" + (n - 1));
    }
    return anchors;
  }

  /** The lines of a page outside fenced code blocks. */
  static List<String> prose(Path page) {
    List<String> lines = new ArrayList<>();
    boolean fenced = false;
    for (String line : read(page).split("\n", -1)) {
      if (line.strip().startsWith("```")) {
        fenced = !fenced;
      } else if (!fenced) {
        lines.add(line);
      }
    }
    return lines;
  }

  /** The cells of a table row, without their backticks' surroundings; empty if not a row. */
  private static List<String> cells(String line) {
    String s = line.strip();
    if (!s.startsWith("|")) {
      return List.of();
    }
    List<String> cells = new ArrayList<>();
    for (String cell : s.substring(1).split("\\|", -1)) {
      cells.add(cell.strip());
    }
    return cells;
  }

  /** "POST /publish" when a heading or a table row's first cell is exactly a route, else null. */
  private static String routeName(String line) {
    String candidate;
    if (line.matches("#{1,6} .*")) {
      candidate = line.replaceFirst("#{1,6} ", "");
    } else {
      List<String> cells = cells(line);
      if (cells.isEmpty()) {
        return null;
      }
      candidate = cells.get(0);
    }
    candidate = candidate.replace("`", "").strip();
    Matcher m = ROUTE.matcher(candidate);
    return m.matches() ? m.group(1) + " " + m.group(2) : null;
  }

  // ---- the OpenAPI document ----

  private static JsonNode openApi() {
    try {
      return new ObjectMapper().readTree(OPENAPI.toFile());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** "METHOD /path" of every operation, with the statuses of its responses. */
  private static Map<String, Set<String>> openApiRoutes() {
    Map<String, Set<String>> routes = new TreeMap<>();
    for (Map.Entry<String, JsonNode> path : openApi().path("paths").properties()) {
      for (Map.Entry<String, JsonNode> op : path.getValue().properties()) {
        if (METHODS.contains(op.getKey())) {
          Set<String> statuses = new TreeSet<>();
          op.getValue().path("responses").properties().forEach(r -> statuses.add(r.getKey()));
          routes.put(op.getKey().toUpperCase(Locale.ROOT) + " " + path.getKey(), statuses);
        }
      }
    }
    assertTrue(routes.size() > 5, "too few routes found in openapi.json: " + routes.keySet());
    return routes;
  }

  /** Every value an "error" field takes: in examples, and in the enums of the schemas. */
  private static void collectErrorCodes(JsonNode node, Set<String> codes) {
    if (node.isObject()) {
      JsonNode error = node.get("error");
      if (error != null && error.isTextual()) {
        codes.add(error.textValue());
      } else if (error != null && error.has("enum")) {
        error.get("enum").forEach(v -> codes.add(v.asText()));
      }
    }
    node.forEach(child -> collectErrorCodes(child, codes));
  }

  private static String read(Path file) {
    try {
      return Files.readString(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
