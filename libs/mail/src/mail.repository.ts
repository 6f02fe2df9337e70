import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@usageguard/config';
import { createTransport, type Transporter } from 'nodemailer';

export interface OutgoingEmail {
  to: string[];
  subject: string;
  html: string;
  text: string;
  /** Becomes the Message-ID; a mail server or sink can tell a resend of the same notification by it. */
  messageId: string;
  headers?: Record<string, string>;
}

export interface SentEmail {
  messageId: string;
  accepted: string[];
  rejected: string[];
}

/** SMTP through nodemailer. send() resolves only once the server accepted the message, and throws otherwise. */
@Injectable()
export class MailRepository implements OnModuleDestroy {
  private readonly transport: Transporter;
  private readonly from: string;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.from = config.mail.from;
    this.transport = createTransport(config.mail.smtpUrl, {});
  }

  async send(email: OutgoingEmail): Promise<SentEmail> {
    const info = await this.transport.sendMail({
      from: this.from,
      to: email.to,
      subject: email.subject,
      html: email.html,
      text: email.text,
      messageId: email.messageId,
      headers: email.headers,
    });
    return {
      messageId: String(info.messageId),
      accepted: (info.accepted as unknown[]).map(String),
      rejected: (info.rejected as unknown[]).map(String),
    };
  }

  async ping(): Promise<void> {
    await this.transport.verify();
  }

  onModuleDestroy(): void {
    this.transport.close();
  }
}
