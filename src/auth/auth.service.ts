import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, IsNull, type EntityManager, type FindOptionsWhere } from 'typeorm';
import type { AccessTokenKind, AuthContext, UserRole } from '../common/auth/auth-context.js';
import { DUMMY_PASSWORD_HASH, verifyPassword } from '../common/crypto/password.js';
import { displayPrefix, generateToken, sha256Hex, TOKEN_PREFIX } from '../common/crypto/tokens.js';
import type { AppConfig } from '../config/app.config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { Tenant } from '../tenants/tenant.entity.js';
import { UserResponseDto } from '../users/dto/user-response.dto.js';
import { User } from '../users/user.entity.js';
import { UsersService } from '../users/users.service.js';
import { AccessToken } from './access-token.entity.js';
import type {
  ApiTokenResponseDto,
  CreateApiTokenDto,
  CreatedApiTokenResponseDto,
  LoginDto,
  MeResponseDto,
  RegisterDto,
  RegisterResponseDto,
  SessionResponseDto,
} from './dto/auth.dto.js';
import { LoginThrottleService } from './login-throttle.service.js';
import { TokenCache } from './token-cache.js';
import { AppError } from '../common/errors/app-error.js';
import { paginate, type PageQueryDto } from '../common/http/pagination.js';

// last_used_at is a hint, not an audit log: write it at most once a minute per token.
const LAST_USED_RESOLUTION_MS = 60_000;

function apiTokenResponse(token: AccessToken): ApiTokenResponseDto {
  return {
    id: token.id,
    name: token.name ?? '',
    prefix: token.prefix,
    expires_at: token.expiresAt?.toISOString() ?? null,
    last_used_at: token.lastUsedAt?.toISOString() ?? null,
    created_at: token.createdAt.toISOString(),
  };
}

@Injectable()
export class AuthService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly users: UsersService,
    private readonly throttle: LoginThrottleService,
    private readonly cache: TokenCache,
  ) {}

  /** Creates a tenant with this person as its admin, and logs them in. */
  async register(dto: RegisterDto): Promise<RegisterResponseDto> {
    return this.dataSource.transaction(async (manager) => {
      const tenant = await manager.getRepository(Tenant).save(manager.getRepository(Tenant).create({ name: dto.tenant_name }));
      const user = await this.users.insert(manager, {
        tenantId: tenant.id,
        email: dto.email,
        name: dto.name,
        password: dto.password,
        role: 'admin',
      });
      const session = await this.issueSession(manager, user);
      return { ...session, tenant: { id: tenant.id, name: tenant.name } };
    });
  }

  async login(dto: LoginDto, ip: string): Promise<SessionResponseDto> {
    await this.throttle.assertAllowed(dto.email, ip);
    const user = await this.dataSource
      .getRepository(User)
      .createQueryBuilder('u')
      .where('lower(u.email) = lower(:email)', { email: dto.email })
      .getOne();
    // Verify against a dummy hash when the email is unknown, so timing does not reveal which emails exist.
    const valid = await verifyPassword(dto.password, user?.passwordHash ?? DUMMY_PASSWORD_HASH);
    if (!user || !valid) {
      await this.throttle.recordFailure(dto.email, ip);
      throw new AppError('INVALID_CREDENTIALS', 'Email or password is wrong');
    }
    await this.throttle.recordSuccess(dto.email, ip);
    return this.issueSession(this.dataSource.manager, user);
  }

  async logout(auth: AuthContext): Promise<void> {
    await this.revokeToken({ id: auth.tokenId });
  }

  async me(auth: AuthContext): Promise<MeResponseDto> {
    const user = await this.dataSource.getRepository(User).findOne({ where: { id: auth.userId }, relations: { tenant: true } });
    if (!user?.tenant) throw new AppError('INVALID_TOKEN', 'The user behind this token no longer exists');
    return { ...UserResponseDto.from(user), tenant: { id: user.tenant.id, name: user.tenant.name } };
  }

  /**
   * Resolves a bearer token to its caller, or null when it is unknown, expired or revoked. Every authenticated
   * request runs this: answered from the TokenCache when it can be, else one indexed lookup in plain SQL.
   */
  async authenticate(token: string): Promise<AuthContext | null> {
    const tokenHash = sha256Hex(token);
    const cached = await this.cache.lookup(tokenHash);
    if (cached) return cached;
    const ticket = this.cache.ticket();
    const [row] = await this.dataSource.query<
      Array<{ id: string; tenant_id: string; user_id: string; kind: AccessTokenKind; expires_at: Date | null; last_used_at: Date | null; role: UserRole }>
    >(
      `SELECT t.id, t.tenant_id, t.user_id, t.kind, t.expires_at, t.last_used_at, u.role
         FROM access_tokens t JOIN users u ON u.id = t.user_id
        WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > now())`,
      [tokenHash],
    );
    if (!row) return null;
    // Read here at least once a minute per token in use (the cache's entries live 60 s): it lags by two minutes at most.
    if (!row.last_used_at || Date.now() - new Date(row.last_used_at).getTime() > LAST_USED_RESOLUTION_MS) {
      await this.dataSource.query('UPDATE access_tokens SET last_used_at = now() WHERE id = $1', [row.id]);
    }
    const auth: AuthContext = { userId: row.user_id, tenantId: row.tenant_id, role: row.role, tokenId: row.id, tokenKind: row.kind };
    this.cache.keep(ticket, tokenHash, auth, row.expires_at ? new Date(row.expires_at) : null);
    return auth;
  }

  async createApiToken(auth: AuthContext, dto: CreateApiTokenDto): Promise<CreatedApiTokenResponseDto> {
    const token = generateToken(TOKEN_PREFIX.api);
    const expiresAt = dto.expires_in_days ? new Date(Date.now() + dto.expires_in_days * 86_400_000) : null;
    const repository = this.dataSource.getRepository(AccessToken);
    const saved = await repository.save(
      repository.create({
        tenantId: auth.tenantId,
        userId: auth.userId,
        kind: 'api',
        name: dto.name,
        tokenHash: sha256Hex(token),
        prefix: displayPrefix(token),
        expiresAt,
      }),
    );
    return { ...apiTokenResponse(saved), token };
  }

  /** The caller's own API tokens that are still usable (never the tokens themselves). */
  async listApiTokens(auth: AuthContext, page: PageQueryDto): Promise<{ data: ApiTokenResponseDto[]; next_cursor: string | null }> {
    const query = this.dataSource
      .getRepository(AccessToken)
      .createQueryBuilder('t')
      .where('t.userId = :userId AND t.tenantId = :tenantId AND t.kind = :kind', { userId: auth.userId, tenantId: auth.tenantId, kind: 'api' })
      .andWhere('t.revokedAt IS NULL')
      .andWhere('(t.expiresAt IS NULL OR t.expiresAt > now())');
    return paginate(query, page, apiTokenResponse);
  }

  async revokeApiToken(auth: AuthContext, id: string): Promise<void> {
    const revoked = await this.revokeToken({ id, userId: auth.userId, tenantId: auth.tenantId, kind: 'api' });
    if (!revoked) throw new AppError('API_TOKEN_NOT_FOUND', `API token ${id} not found`);
  }

  /**
   * Revokes the token matching `where` (if it is not revoked already), announcing it to every instance's
   * TokenCache in the same transaction (TokenCache.revoke). False when none matched.
   */
  private revokeToken(where: FindOptionsWhere<AccessToken> & { id: string }): Promise<boolean> {
    return this.cache.revoke(this.dataSource, `token:${where.id}`, async (manager) => {
      const result = await manager.getRepository(AccessToken).update({ ...where, revokedAt: IsNull() }, { revokedAt: new Date() });
      return Boolean(result.affected);
    });
  }


  private async issueSession(manager: EntityManager, user: User): Promise<SessionResponseDto> {
    const token = generateToken(TOKEN_PREFIX.session);
    const expiresAt = new Date(Date.now() + this.config.sessionTtlHours * 3_600_000);
    await manager.getRepository(AccessToken).insert({
      tenantId: user.tenantId,
      userId: user.id,
      kind: 'session',
      name: null,
      tokenHash: sha256Hex(token),
      prefix: displayPrefix(token),
      expiresAt,
    });
    return { token, expires_at: expiresAt.toISOString(), user: UserResponseDto.from(user) };
  }
}
