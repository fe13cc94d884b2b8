import { Badge, Button, Checkbox, Group, Loader, Modal, SegmentedControl, Stack, Table, Text, Textarea } from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { api, type Schemas } from "../api/client";
import { unwrap } from "../api/errors";
import { useCan } from "../auth/session";
import { ErrorAlert } from "../components/ErrorAlert";
import { FormError } from "../components/FormError";
import { PageHeader } from "../components/PageHeader";
import { AnchorLink } from "../components/links";
import { formatDateTime } from "../lib/format";

type Certificate = Schemas["HostCertificate"];
type Status = Certificate["status"];

// EXPIRING_DAYS is what the fleet page calls "expiring soon".
const EXPIRING_DAYS = 14;

const STATUS_COLOR: Record<Status, string> = { issued: "teal", expired: "orange", revoked: "red" };

// expiresIn says how long an issued certificate has left, in days.
function expiresIn(c: Certificate): string {
  if (c.status !== "issued") return "";
  const days = Math.floor((Date.parse(c.valid_before) - Date.now()) / 86_400_000);
  return days <= 0 ? "expires today" : `${days} day${days === 1 ? "" : "s"} left`;
}

// Delivery says whether the certificate was installed on its host.
function Delivery({ cert }: { cert: Certificate }) {
  if (cert.delivery_error)
    return (
      <Text size="xs" c="red.9" title={cert.delivery_error} lineClamp={3}>
        Failed: {cert.delivery_error}
      </Text>
    );
  if (cert.delivered_at) return <Text size="sm">Installed {formatDateTime(cert.delivered_at)}</Text>;
  return (
    <Text size="sm" c="dimmed">
      {cert.status === "issued" ? "Pending" : "—"}
    </Text>
  );
}

// RevokeDialog asks for a reason before revoking a certificate.
function RevokeDialog({ cert, onClose }: { cert: Certificate; onClose: () => void }) {
  const qc = useQueryClient();
  const [reason, setReason] = useState("");
  const [formError, setFormError] = useState<string>();
  const revoke = useMutation({
    mutationFn: () =>
      unwrap(api.POST("/certificates/{id}:revoke", { params: { path: { id: cert.id } }, body: reason ? { reason } : {} })),
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey: ["certificates"] });
      notifications.show({ color: "teal", message: `Certificate ${cert.serial} revoked.` });
      onClose();
    },
    onError: (err) => setFormError(err.message),
  });
  return (
    <Modal opened onClose={onClose} title={`Revoke certificate ${cert.serial}`}>
      <Stack>
        <FormError message={formError} />
        <Text size="sm">
          Its serial joins the key revocation list, and connections to a host presenting it fail closed until the host has a
          new certificate.
        </Text>
        <Textarea label="Reason" maxLength={500} value={reason} onChange={(e) => setReason(e.currentTarget.value)} />
        <Group justify="flex-end">
          <Button variant="default" onClick={onClose}>
            Cancel
          </Button>
          <Button color="red" loading={revoke.isPending} onClick={() => revoke.mutate()}>
            Revoke certificate
          </Button>
        </Group>
      </Stack>
    </Modal>
  );
}

// CertificateTable lists host certificates with their status, expiry and actions.
function CertificateTable({ certs, showHost, label }: { certs: Certificate[]; showHost: boolean; label: string }) {
  const qc = useQueryClient();
  const canWrite = useCan("host:write");
  const [revoking, setRevoking] = useState<Certificate>();
  const renew = useMutation({
    mutationFn: (id: string) => unwrap(api.POST("/certificates/{id}:renew", { params: { path: { id } }, body: {} })),
    onSuccess: (c) => {
      void qc.invalidateQueries({ queryKey: ["certificates"] });
      notifications.show({ color: "teal", message: `Renewed: certificate ${c.serial} issued.` });
    },
    onError: (err) => notifications.show({ color: "red", title: "Not renewed", message: err.message }),
  });
  if (certs.length === 0) return <Text c="dimmed">No certificates.</Text>;
  return (
    <>
      <Table aria-label={label}>
        <Table.Thead>
          <Table.Tr>
            <Table.Th scope="col">Serial</Table.Th>
            {showHost && <Table.Th scope="col">Host</Table.Th>}
            <Table.Th scope="col">Principals</Table.Th>
            <Table.Th scope="col">Key</Table.Th>
            <Table.Th scope="col">Status</Table.Th>
            <Table.Th scope="col">Valid until</Table.Th>
            <Table.Th scope="col">Delivery</Table.Th>
            <Table.Th scope="col">Issued</Table.Th>
            <Table.Th scope="col">
              <span className="visually-hidden">Actions</span>
            </Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {certs.map((c) => (
            <Table.Tr key={c.id} data-testid={`certificate-${c.serial}`}>
              <Table.Td ff="monospace">{c.serial}</Table.Td>
              {showHost && (
                <Table.Td>
                  <AnchorLink to="/hosts/$hostId" params={{ hostId: c.host_id }} search={{ tab: "certificates" }}>
                    {c.principals[0] ?? c.host_id}
                  </AnchorLink>
                </Table.Td>
              )}
              <Table.Td>{c.principals.join(", ")}</Table.Td>
              <Table.Td ff="monospace" fz="xs">
                {c.key_type} {c.fingerprint_sha256}
              </Table.Td>
              <Table.Td miw={100}>
                <Badge color={STATUS_COLOR[c.status]} variant="light" style={{ overflow: "visible" }}>
                  {c.status}
                </Badge>
                {c.status === "revoked" && c.revoke_reason && (
                  <Text size="xs" c="dimmed">
                    {c.revoke_reason}
                  </Text>
                )}
              </Table.Td>
              <Table.Td>
                {formatDateTime(c.valid_before)}
                <Text size="xs" c="dimmed">
                  {expiresIn(c)}
                </Text>
              </Table.Td>
              <Table.Td maw={260}>
                <Delivery cert={c} />
              </Table.Td>
              <Table.Td>{formatDateTime(c.created_at)}</Table.Td>
              <Table.Td>
                {canWrite && c.status !== "revoked" && (
                  <Group gap="xs" wrap="nowrap">
                    <Button size="xs" variant="default" loading={renew.isPending && renew.variables === c.id} onClick={() => renew.mutate(c.id)}>
                      Renew
                    </Button>
                    <Button size="xs" variant="default" color="red" onClick={() => setRevoking(c)}>
                      Revoke
                    </Button>
                  </Group>
                )}
              </Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
      {revoking && <RevokeDialog cert={revoking} onClose={() => setRevoking(undefined)} />}
    </>
  );
}

// HostCertificatesTab lists a host's certificates, issues one for its pinned key, and
// reissues (a new one, the previous ones revoked).
export function HostCertificatesTab({ hostId }: { hostId: string }) {
  const qc = useQueryClient();
  const canWrite = useCan("host:write");
  const { data, error, isPending } = useQuery({
    queryKey: ["certificates", "host", hostId],
    queryFn: () =>
      unwrap(api.GET("/hosts/{host_id}/certificates", { params: { path: { host_id: hostId }, query: { limit: 200 } } })),
  });
  const done = (verb: string) => (c: Certificate) => {
    void qc.invalidateQueries({ queryKey: ["certificates"] });
    notifications.show({ color: "teal", message: `${verb}: certificate ${c.serial}.` });
  };
  const issue = useMutation({
    mutationFn: () => unwrap(api.POST("/hosts/{host_id}/certificates", { params: { path: { host_id: hostId } }, body: {} })),
    onSuccess: done("Issued"),
    onError: (err) => notifications.show({ color: "red", title: "Not issued", message: err.message }),
  });
  const reissue = useMutation({
    mutationFn: () =>
      unwrap(api.POST("/hosts/{host_id}/certificates:reissue", { params: { path: { host_id: hostId } }, body: {} })),
    onSuccess: done("Reissued"),
    onError: (err) => notifications.show({ color: "red", title: "Not reissued", message: err.message }),
  });
  if (isPending) return <Loader role="status" size="sm" aria-label="Loading certificates" />;
  if (error) return <ErrorAlert error={error} />;
  const any = data.certificates.length > 0;
  return (
    <Stack>
      <Group justify="space-between">
        <Text size="sm" c="dimmed">
          {any
            ? "This host is verified against the OpenWatch host CA: connections accept only a valid, unrevoked certificate for its pinned key."
            : "Hosts without a certificate are verified by the key trusted on first use."}
        </Text>
        {canWrite && (
          <Group gap="sm">
            <Button onClick={() => issue.mutate()} loading={issue.isPending}>
              Issue certificate
            </Button>
            {any && (
              <Button variant="default" onClick={() => reissue.mutate()} loading={reissue.isPending}>
                Reissue
              </Button>
            )}
          </Group>
        )}
      </Group>
      <CertificateTable certs={data.certificates} showHost={false} label="Host certificates" />
    </Stack>
  );
}

type Filter = "all" | Status;

// CertificatesPage lists the host certificates of the fleet, filtered by status or
// expiring soon.
export function CertificatesPage() {
  const [status, setStatus] = useState<Filter>("all");
  const [expiring, setExpiring] = useState(false);
  const { data, error, isPending } = useQuery({
    queryKey: ["certificates", "fleet", status, expiring],
    queryFn: () =>
      unwrap(
        api.GET("/certificates", {
          params: {
            query: {
              limit: 200,
              ...(status !== "all" && !expiring ? { status } : {}),
              ...(expiring ? { expiring_within_days: EXPIRING_DAYS } : {}),
            },
          },
        }),
      ),
  });
  return (
    <>
      <PageHeader
        title="Certificates"
        description="SSH host certificates signed by the OpenWatch host CA, with their status and expiry."
        actions={
          <Button component="a" variant="default" href="/api/v1/ssh-ca/krl" download="openwatch.krl">
            Download KRL
          </Button>
        }
      />
      <Group mb="md">
        <SegmentedControl
          aria-label="Status"
          value={status}
          onChange={(v) => setStatus(v as Filter)}
          disabled={expiring}
          data={[
            { value: "all", label: "All" },
            { value: "issued", label: "Issued" },
            { value: "expired", label: "Expired" },
            { value: "revoked", label: "Revoked" },
          ]}
        />
        <Checkbox
          label={`Expiring within ${EXPIRING_DAYS} days`}
          checked={expiring}
          onChange={(e) => setExpiring(e.currentTarget.checked)}
        />
      </Group>
      {isPending ? (
        <Loader role="status" size="sm" aria-label="Loading certificates" />
      ) : error ? (
        <ErrorAlert error={error} />
      ) : (
        <CertificateTable certs={data.certificates} showHost label="Certificates" />
      )}
    </>
  );
}
