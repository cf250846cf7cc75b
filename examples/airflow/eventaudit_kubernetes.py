"""eventaudit nightly, as a KubernetesPodOperator task running the Dockerfile's image.

The config comes from a ConfigMap (eventaudit.yml, with ${VAR} references) and the
secrets from a Secret, as environment variables: PG_PASSWORD, SLACK_WEBHOOK_URL,
EVENTAUDIT_VALUES_KEY. Exit 1 (over --fail-on) fails the task without retrying it; 3
and 130 are worth a retry, since a re-run of the window replaces it whole.
"""
from datetime import datetime, timedelta

from airflow import DAG
from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator
from kubernetes.client import models as k8s

with DAG("eventaudit_nightly_k8s", start_date=datetime(2026, 11, 1), schedule="@daily",
         catchup=True, max_active_runs=1) as dag:
    KubernetesPodOperator(
        task_id="audit",
        name="eventaudit",
        namespace="data",
        image="registry.example.com/eventaudit:1.0.0",
        # The image's entrypoint is eventaudit; arguments are templated.
        arguments=[
            "audit", "--config", "/etc/eventaudit/eventaudit.yml", "--log-format", "json",
            "--since", "{{ data_interval_start | ts }}", "--until", "{{ data_interval_end | ts }}",
            "--fail-on", "invalid_rate=0.02", "--values", "hash",
            "--metrics-push", "http://pushgateway.monitoring:9091",
        ],
        env_from=[k8s.V1EnvFromSource(secret_ref=k8s.V1SecretEnvSource(name="eventaudit"))],
        volumes=[k8s.V1Volume(name="config", config_map=k8s.V1ConfigMapVolumeSource(name="eventaudit"))],
        volume_mounts=[k8s.V1VolumeMount(name="config", mount_path="/etc/eventaudit", read_only=True)],
        # Two workers validate; memory stays bounded whatever the window's size.
        container_resources=k8s.V1ResourceRequirements(
            requests={"cpu": "2", "memory": "512Mi"}, limits={"memory": "1Gi"}),
        get_logs=True,
        on_finish_action="delete_pod",
        retries=2,
        retry_delay=timedelta(minutes=10),
    )
