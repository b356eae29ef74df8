# The standalone server in a container: the same aggregator-server.jar as everywhere else.
# Not built here (no container engine on the development machine); build the jar first:
#   mvn -q -pl aggregator-server -am package -DskipTests
#   docker build -t aggregator-server .
# Configure with the environment (HOST, PORT, AGGREGATOR_STORE, AGGREGATOR_SOURCE,
# AGGREGATOR_FORWARD, AGGREGATOR_CONSUMER, AGGREGATOR_API_KEY, LOG_LEVEL) or with flags after the
# image name (see --help).
FROM eclipse-temurin:21-jre

WORKDIR /app
COPY aggregator-server/target/aggregator-server.jar /app/aggregator-server.jar
# data/ holds the SQLite file when no --store is given, logs/ the rolling log; an unprivileged user.
RUN mkdir -p /app/data /app/logs && chown -R 10001:10001 /app
USER 10001

# In a container the server must listen on every interface, not the loopback default.
ENV HOST=0.0.0.0 PORT=8080
EXPOSE 8080
VOLUME ["/app/data"]

# Exec form: java is PID 1 and gets SIGTERM, so a stop commits everything accepted and exits 0.
ENTRYPOINT ["java", "-XX:MaxRAMPercentage=75", "-jar", "/app/aggregator-server.jar"]
