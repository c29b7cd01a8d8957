-- Run once by the postgis/postgis image on an empty data directory (/docker-entrypoint-initdb.d/),
-- as POSTGRES_USER (gridgov, the owner of the new databases). One database per service, each with
-- PostGIS. The image's own template_postgis is not relied on.
CREATE DATABASE gridgov_intake;
CREATE DATABASE gridgov_registry;
CREATE DATABASE gridgov_dispatch;
CREATE DATABASE gridgov_notification;
CREATE DATABASE gridgov_analytics;
CREATE DATABASE gridgov_sensing;

\connect gridgov_intake
CREATE EXTENSION IF NOT EXISTS postgis;

\connect gridgov_registry
CREATE EXTENSION IF NOT EXISTS postgis;

\connect gridgov_dispatch
CREATE EXTENSION IF NOT EXISTS postgis;

\connect gridgov_notification
CREATE EXTENSION IF NOT EXISTS postgis;

\connect gridgov_analytics
CREATE EXTENSION IF NOT EXISTS postgis;

\connect gridgov_sensing
CREATE EXTENSION IF NOT EXISTS postgis;
