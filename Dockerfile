# The standalone server in a container, built from this repository as it is:
#   docker build -t aggregator-server .
# Configure with the environment (HOST, PORT, AGGREGATOR_STORE, AGGREGATOR_SOURCE,
# AGGREGATOR_FORWARD, AGGREGATOR_CONSUMER, AGGREGATOR_API_KEY, AGGREGATOR_TRANSPORT, LOG_LEVEL) or
# with flags after the image name (see --help).

# Build: the shaded jar, tests left to CI.
FROM maven:3.9-eclipse-temurin-17 AS build
WORKDIR /src
COPY . .
RUN mvn -q -B -pl aggregator-server -am package -DskipTests

FROM eclipse-temurin:21-jre
WORKDIR /app
COPY --from=build /src/aggregator-server/target/aggregator-server.jar /app/aggregator-server.jar
# data/ holds the SQLite file when no --store is given, logs/ the rolling log; an unprivileged user.
RUN mkdir -p /app/data /app/logs && chown -R 10001:10001 /app
USER 10001

# In a container the server must listen on every interface, not the loopback default.
ENV HOST=0.0.0.0 PORT=8080
EXPOSE 8080
VOLUME ["/app/data"]

# GET /health through bash's /dev/tcp: no curl in the image, and no second JVM per check.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/${PORT} && printf 'GET /health HTTP/1.0\\r\\n\\r\\n' >&3 && head -n 1 <&3 | grep -q ' 200 '"]

# Exec form: java is PID 1 and gets SIGTERM, so a stop commits everything accepted and exits 0.
ENTRYPOINT ["java", "-XX:MaxRAMPercentage=75", "-jar", "/app/aggregator-server.jar"]
