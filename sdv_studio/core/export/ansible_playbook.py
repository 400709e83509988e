"""The playbook of an Ansible export, and its task file that calls the device agent.

Only ansible.builtin modules, so it runs with ansible-core alone (and in AWX or Automation
Platform). Every step is the agent's, as SDV Studio's engine calls it (docs/agent-protocol.md):
the agent is put in place as the engine's bootstrap does it, whole or not at all; ``prepare`` says
what the device holds; the package goes to the agent's uploads folder; KUKSA wiring follows
core/deploy/kuksa_wiring.py (SDV Studio's databroker is started with the agent's ``venv`` and
``service`` when the device has none, verifying tokens with the workstation's public key, and one an
earlier deployment started is recognised, or restarted with that key); ``deploy`` installs offline,
starts the app behind its health gate and rolls back when it fails, giving the app its token
(KUKSA_TOKEN) where its broker is SDV Studio's or a token was given. What differs per export is in
vars/deployment.yml; the token, the one secret, is in vars/credentials.yml, which may be vault-encrypted.
"""

from __future__ import annotations

import json

PLAYBOOK = "deploy.yml"
AGENT_CALL = "tasks/agent-call.yml"
VARS = "vars/deployment.yml"
# The first line of every playbook written: how an earlier export is recognised before it is replaced.
MARK = "# Written by `sdv-studio export ansible`"

_PLAYBOOK = MARK + """: deploys @TITLE@ through SDV Studio's device agent,
# as `sdv-studio deploy` does. Run it from this folder:
#     ansible-playbook -i inventory.yml deploy.yml
# (with --ask-vault-pass once vars/credentials.yml, the app's databroker token, is vault-encrypted).
# The agent installs the package offline, wires the app to a KUKSA databroker, starts it behind its
# health gate and, when the new version fails the gate, restarts the previous one. Deployments left
# on the devices show in `sdv-studio status`.
- name: Deploy @TITLE@ with SDV Studio's device agent
  hosts: sdv_devices
  gather_facts: false
  # Devices per batch, from --waves @WAVES@: a batch starts once the one before it is done.
  serial: @SERIAL@
  # From --max-failed @MAX_FAILED@: more failed devices than this share of a batch stops the rollout.
  max_fail_percentage: @MAX_FAIL_PERCENTAGE@
  vars_files:
    - vars/deployment.yml
    - vars/credentials.yml
  tasks:
    - name: Reach the device (one that cannot be reached counts as failed)
      ansible.builtin.wait_for_connection:
        timeout: "{{ sdv_connect_timeout }}"

    - name: Which version of the agent the device holds
      ansible.builtin.shell: 'cat "$HOME"/{{ sdv_agent.path }}/.bundle 2>/dev/null || true'
      register: sdv_agent_held
      changed_when: false

    - name: Put this version of the agent in place (unpacked beside the old one, then renamed into place)
      when: sdv_agent_held.stdout | trim != sdv_agent.digest
      block:
        - name: A folder for the agent's bundle
          ansible.builtin.tempfile:
            state: directory
          register: sdv_agent_tmp

        - name: Send the agent's bundle and its installer
          ansible.builtin.copy:
            src: "{{ playbook_dir }}/{{ item }}"
            dest: "{{ sdv_agent_tmp.path }}/"
            mode: "0600"
          loop:
            - "{{ sdv_agent.bundle }}"
            - "{{ sdv_agent.installer }}"

        - name: Install the agent
          ansible.builtin.command:
            argv:
              - python3
              - -I
              - -c
              - "{{ sdv_agent.install }}"
              - "{{ sdv_agent_tmp.path }}/{{ sdv_agent.installer | basename }}"
              - "{{ sdv_agent.path }}"
              - "{{ sdv_agent_tmp.path }}/{{ sdv_agent.bundle | basename }}"
      always:
        - name: Remove the agent's bundle
          ansible.builtin.file:
            path: "{{ sdv_agent_tmp.path }}"
            state: absent
          when: sdv_agent_tmp.path is defined

    - name: What the device holds (refused while another deployment holds the device)
      ansible.builtin.include_tasks: tasks/agent-call.yml
      vars:
        sdv_command: prepare
        sdv_args:
          name: "{{ sdv_app.name }}"
          packageId: "{{ sdv_app.packageId }}"
          holder:
            host: "{{ lookup('ansible.builtin.pipe', 'hostname') }}"
            deploymentId: "ansible-playbook ({{ sdv_app.name }} {{ sdv_app.version }})"

    - name: Remember what the device holds
      ansible.builtin.set_fact:
        sdv_prepared: "{{ sdv_answer }}"
        # "3.11-x86_64": the device's Python (major.minor) and architecture, as the package's wheel sets name them
        sdv_combination: >-
          {{ (sdv_answer.properties.python | string).split('.')[:2] | join('.') }}-{{ sdv_answer.properties.arch }}

    - name: Refuse to replace a version whose package takes no updates (deployment.otaEnabled false)
      ansible.builtin.fail:
        msg: >-
          {{ sdv_app.name }} {{ sdv_prepared.current.version }} is pinned on this device (its package says
          deployment.otaEnabled: false), so {{ sdv_app.version }} was not deployed; export with --force to replace it
      when: >-
        sdv_prepared.current is defined and not sdv_prepared.current.otaEnabled and not sdv_force
        and sdv_prepared.current.version != sdv_app.version

    - name: The agent's uploads folder
      ansible.builtin.file:
        path: "{{ sdv_prepared.uploads }}"
        state: directory
        mode: "0700"

    - name: Send the package (unless the device holds it already)
      ansible.builtin.copy:
        src: "{{ playbook_dir }}/{{ sdv_package }}"
        dest: "{{ sdv_prepared.uploads }}/{{ sdv_app.packageId }}.tar.gz"
        mode: "0600"
      when: sdv_prepared.installed is none

    - name: Choose the KUKSA databroker
      ansible.builtin.set_fact:
        sdv_broker_address: "{{ sdv_kuksa.broker if sdv_kuksa.broker is not none else '127.0.0.1:' ~ sdv_kuksa.port }}"
        sdv_broker_listening: "{{ sdv_kuksa.port in sdv_prepared.listening | default([]) }}"
        sdv_mqtt_listening: "{{ sdv_kuksa.mqttPort in sdv_prepared.listening | default([]) }}"

    - name: Refuse to start SDV Studio's databroker on a port that is taken
      ansible.builtin.fail:
        msg: >-
          the package turns databroker detection off, so SDV Studio's databroker would start, but port
          {{ sdv_kuksa.port }} on the device is taken; use that broker (export with --broker
          127.0.0.1:{{ sdv_kuksa.port }}), or package with detection on
      when: sdv_kuksa.broker is none and not sdv_kuksa.detect and sdv_kuksa.fallback and sdv_broker_listening | bool

    - name: Whether SDV Studio's databroker must start on the device, its port being free
      ansible.builtin.set_fact:
        sdv_start_fresh: "{{ sdv_kuksa.broker is none and sdv_kuksa.fallback and not sdv_broker_listening | bool }}"
        sdv_key_path: "{{ sdv_prepared.uploads }}/{{ sdv_kuksa.keyFile }}"

    - name: Whether the databroker there is SDV Studio's, started by an earlier deployment
      when: sdv_kuksa.recognise and not sdv_start_fresh | bool
      block:
        - name: Ask the agent for SDV Studio's databroker
          ansible.builtin.include_tasks: tasks/agent-call.yml
          vars:
            sdv_command: service
            sdv_args: {action: status, name: databroker}

        - name: Remember how it runs
          ansible.builtin.set_fact:
            sdv_broker_argv: "{{ sdv_answer.argv if sdv_answer.running else [] }}"

    # As kuksa_wiring.recognise: SDV Studio's broker verifies this workstation's tokens, or is restarted
    # so that it does (with MQTT if it served it); then the app gets the token minted for it.
    - name: Whether SDV Studio's databroker must start (or restart, to verify this workstation's tokens)
      ansible.builtin.set_fact:
        sdv_broker_ours: "{{ sdv_start_fresh | bool or sdv_broker_argv | default([]) | length > 0 }}"
        sdv_start_broker: >-
          {{ sdv_start_fresh | bool
             or (sdv_broker_argv | default([]) | length > 0 and sdv_key_path not in sdv_broker_argv) }}
        sdv_broker_with_mqtt: >-
          {{ '--mqtt-port' in sdv_broker_argv if sdv_broker_argv | default([]) | length > 0
             else not sdv_mqtt_listening | bool }}
        sdv_broker_how: >-
          {{ "SDV Studio's databroker started on the device" if sdv_start_fresh | bool
             else "SDV Studio's databroker, restarted to verify this workstation's tokens"
               if sdv_broker_argv | default([]) | length > 0 and sdv_key_path not in sdv_broker_argv
             else "SDV Studio's databroker, running on the device" if sdv_broker_argv | default([]) | length > 0
             else sdv_kuksa.how if sdv_kuksa.broker is not none
             else 'a databroker listens on the device' if sdv_broker_listening | bool
             else 'no databroker found and fallback disabled' }}

    - name: Start SDV Studio's databroker on the device
      when: sdv_start_broker | bool
      block:
        - name: The databroker's wheels for the device's Python and architecture
          ansible.builtin.assert:
            that: sdv_combination in sdv_broker.bundles
            fail_msg: >-
              this export carries SDV Studio's databroker for {{ sdv_broker.bundles | list | join(', ') }}
              but the device is {{ sdv_combination }}: package for its Python and architecture and export
              again, or wire the app to a databroker it has (--broker HOST:PORT)
            quiet: true

        - name: A folder for the databroker's wheels
          ansible.builtin.tempfile:
            state: directory
          register: sdv_broker_tmp

        - name: Send the databroker's wheels for the device, in one file
          ansible.builtin.copy:
            src: "{{ playbook_dir }}/{{ sdv_broker.wheels }}/{{ sdv_combination }}.tar"
            dest: "{{ sdv_broker_tmp.path }}/"
            mode: "0600"

        - name: Unpack the wheels into the agent's uploads folder
          ansible.builtin.command:
            argv:
              - python3
              - -I
              - -c
              - "{{ sdv_broker.unpack }}"
              - "{{ sdv_broker_tmp.path }}/{{ sdv_combination }}.tar"
              - "{{ sdv_prepared.uploads }}/broker-wheels"

        - name: Remove the databroker's wheels file
          ansible.builtin.file:
            path: "{{ sdv_broker_tmp.path }}"
            state: absent

        - name: Send the VSS catalogue the databroker serves
          ansible.builtin.copy:
            src: "{{ playbook_dir }}/{{ sdv_broker.vss }}"
            dest: "{{ sdv_prepared.uploads }}/broker-vss/"
            mode: "0600"

        - name: Send the public key the databroker verifies the apps' tokens with
          ansible.builtin.copy:
            src: "{{ playbook_dir }}/{{ sdv_kuksa.key }}"
            dest: "{{ sdv_key_path | dirname }}/"
            mode: "0600"

        - name: Install the databroker, offline
          ansible.builtin.include_tasks: tasks/agent-call.yml
          vars:
            sdv_command: venv
            sdv_args: "{{ sdv_broker.venvArgs }}"

        - name: Start the databroker under the agent's supervisor
          ansible.builtin.include_tasks: tasks/agent-call.yml
          vars:
            sdv_command: service
            sdv_args: "{{ sdv_broker.serviceArgs if sdv_broker_with_mqtt | bool else sdv_broker.serviceArgsNoMqtt }}"

    - name: Send the CA the databroker's TLS certificate chains to (--broker-ca)
      ansible.builtin.copy:
        src: "{{ playbook_dir }}/{{ sdv_kuksa.ca.file }}"
        dest: "{{ (sdv_prepared.uploads ~ '/' ~ sdv_kuksa.ca.path) | dirname }}/"
        mode: "0600"
      when: sdv_kuksa.ca is not none

    - name: Deploy (install offline, start behind the health gate, roll back if it fails)
      ansible.builtin.include_tasks: tasks/agent-call.yml
      vars:
        sdv_command: deploy
        sdv_secret: true  # its env holds the app's token
        sdv_args: >-
          {{ sdv_deploy | combine({'packageId': sdv_app.packageId} if sdv_prepared.installed is not none
                                  else {'package': sdv_prepared.uploads ~ '/' ~ sdv_app.packageId ~ '.tar.gz'},
                                  {'broker': sdv_broker_address, 'mqtt': sdv_kuksa.mqtt, 'env': sdv_app_env}) }}
        # As security.delivery.credential_env: the token where the broker verifies it (SDV Studio's) or
        # it was given for the broker; the CA's path on the device where one was given.
        sdv_app_env: >-
          {{ ({'KUKSA_TOKEN': sdv_kuksa_token}
              if sdv_kuksa_token and (sdv_kuksa.tokenGiven or sdv_broker_ours | bool) else {})
             | combine({'KUKSA_CA_FILE': sdv_prepared.uploads ~ '/' ~ sdv_kuksa.ca.path}
                       if sdv_kuksa.ca is not none else {}) }}

    - name: Deployed
      ansible.builtin.debug:
        msg: >-
          {{ sdv_app.name }} {{ sdv_app.version }}
          {{ 'already running' if sdv_answer.alreadyRunning | default(false)
             else 'running (' ~ sdv_answer.mode ~ ')' }}; databroker {{ sdv_broker_address }} ({{ sdv_broker_how }})
"""

AGENT_CALL_TASKS = MARK + """: one call of SDV Studio's device agent,
# JSON in, JSON out: sdv_command with sdv_args on stdin; its answer becomes sdv_answer. A refusal fails
# the device with the agent's reason and, for an app that failed its health gate, its last log lines.
- name: "Agent {{ sdv_command }}"
  ansible.builtin.shell:
    cmd: "{{ sdv_agent.command }} {{ sdv_command }} -"
    stdin: "{{ sdv_args | to_json }}"
  register: sdv_call
  no_log: "{{ sdv_secret | default(false) }}"  # -v would show the arguments: the app's token
  changed_when: >-
    sdv_command in ['deploy', 'venv', 'service'] and sdv_args.action | default('start') == 'start'
    and '"alreadyRunning": true' not in sdv_call.stdout
  failed_when: false

- name: "Agent {{ sdv_command }}: its answer"
  ansible.builtin.set_fact:
    sdv_answer: "{{ sdv_call.stdout_lines | select('match', '[{]') | last | default('{}') | from_json }}"

- name: "Agent {{ sdv_command }}: refused"
  ansible.builtin.fail:
    msg: "{{ [sdv_refusal | trim] + sdv_answer.logTail | default([]) }}"
  vars:
    sdv_refusal: >-
      {{ sdv_answer.error | default('the agent gave no answer: ' ~ (sdv_call.stderr_lines | last | default('none'))) }}
      {{ '(rolled back to ' ~ sdv_answer.rolledBackTo ~ ', which is running)'
         if sdv_answer.rolledBackTo | default(none) else '' }}
  when: not (sdv_answer.ok | default(false))
"""


def playbook(title: str, waves: str, serial: list[int], max_failed: str, max_fail_percentage: float) -> str:
    """The playbook for one export: ``title`` names the app, ``waves``/``max_failed`` are the options as given."""
    values = {"@TITLE@": title, "@WAVES@": waves, "@SERIAL@": json.dumps(serial), "@MAX_FAILED@": max_failed,
              "@MAX_FAIL_PERCENTAGE@": f"{max_fail_percentage:g}"}
    text = _PLAYBOOK
    for placeholder, value in values.items():
        text = text.replace(placeholder, value)
    return text
