-- Airflow's metadata lives next to Harmonize's registry, in its own database.
CREATE DATABASE airflow OWNER harmonize;
