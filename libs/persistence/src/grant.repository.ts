import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { DomainError, ErrorCode } from '@app/common';
import { PrismaService } from './prisma.service';
import { isUniqueViolation } from './store-errors';

export interface GrantView {
  grantId: string;
  principalId: string;
  servicePrincipalId: string;
  createdAt: string;
  createdBy: string;
}

export interface GrantEventView {
  eventId: string;
  at: string;
  action: string;
  grantId: string;
  actor: { id: string; name: string | null };
  details: unknown;
}

export interface AdminEventInput {
  actorId: string;
  actorName: string | null;
  action: string;
  subjectId: string;
  details: Record<string, string | number | boolean | null>;
}

function view(g: {
  id: string;
  principalId: string;
  servicePrincipalId: string;
  createdAt: Date;
  createdBy: string;
}): GrantView {
  return {
    grantId: g.id,
    principalId: g.principalId,
    servicePrincipalId: g.servicePrincipalId,
    createdAt: g.createdAt.toISOString(),
    createdBy: g.createdBy,
  };
}

@Injectable()
export class GrantRepository {
  constructor(private readonly prisma: PrismaService) {}

  /** Service principals the caller is narrowed to; empty when the caller has no grant at all. */
  async servicePrincipalsOf(principalId: string): Promise<string[]> {
    const rows = await this.prisma.grant.findMany({
      where: { principalId },
      select: { servicePrincipalId: true },
    });
    return rows.map((r) => r.servicePrincipalId);
  }

  /**
   * Creates the grant (and its admin event) or returns the existing one. A concurrent create of the same grant
   * that commits first makes this one fail with `GRANT_EXISTS` (the unique key), never a driver error.
   */
  async create(
    principalId: string,
    servicePrincipalId: string,
    event: AdminEventInput,
  ): Promise<{ grant: GrantView; created: boolean }> {
    return this.createOnce(principalId, servicePrincipalId, event).catch((error: unknown) => {
      if (isUniqueViolation(error)) {
        throw new DomainError(ErrorCode.GRANT_EXISTS, 'The grant already exists', { cause: error });
      }
      throw error;
    });
  }

  private createOnce(
    principalId: string,
    servicePrincipalId: string,
    event: AdminEventInput,
  ): Promise<{ grant: GrantView; created: boolean }> {
    return this.prisma.$transaction(async (tx) => {
      const existing = await tx.grant.findUnique({
        where: { principalId_servicePrincipalId: { principalId, servicePrincipalId } },
      });
      if (existing) {
        return { grant: view(existing), created: false };
      }
      const grant = await tx.grant.create({
        data: { id: randomUUID(), principalId, servicePrincipalId, createdBy: event.actorId },
      });
      await tx.adminEvent.create({
        data: { id: randomUUID(), ...event, subjectId: grant.id, details: event.details },
      });
      return { grant: view(grant), created: true };
    });
  }

  async list(filter: { principalId?: string; servicePrincipalId?: string }): Promise<GrantView[]> {
    const rows = await this.prisma.grant.findMany({
      where: filter,
      orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
      take: 1000,
    });
    return rows.map(view);
  }

  async delete(grantId: string, event: AdminEventInput): Promise<GrantView | null> {
    return this.prisma.$transaction(async (tx) => {
      const existing = await tx.grant.findUnique({ where: { id: grantId } });
      if (!existing) {
        return null;
      }
      await tx.grant.delete({ where: { id: grantId } });
      // The event names what was removed, so the audit reads without the (now deleted) grant row.
      const details = {
        ...event.details,
        principalId: existing.principalId,
        servicePrincipalId: existing.servicePrincipalId,
      };
      await tx.adminEvent.create({ data: { id: randomUUID(), ...event, subjectId: grantId, details } });
      return view(existing);
    });
  }

  /** Grant changes (admin events `grant.*`), newest first. */
  async events(limit: number): Promise<GrantEventView[]> {
    const rows = await this.prisma.adminEvent.findMany({
      where: { action: { startsWith: 'grant.' } },
      orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
      take: limit,
    });
    return rows.map((e) => ({
      eventId: e.id,
      at: e.createdAt.toISOString(),
      action: e.action,
      grantId: e.subjectId,
      actor: { id: e.actorId, name: e.actorName },
      details: e.details,
    }));
  }
}
