# frozen_string_literal: true

require 'openssl'
require 'securerandom'

module Karafka
  module Web
    # Session-less CSRF protection, a signed double submit: the browser holds a random nonce in
    # a SameSite=Strict, HttpOnly cookie, and each form carries HMAC(secret, nonce). Another
    # site can neither read the cookie nor compute the HMAC without the secret
    # (`config.ui.sessions.secret`, else one random secret per process).
    class Csrf
      COOKIE = 'karafka_web_csrf'

      def self.secret
        Web.config.ui.sessions.secret || (@secret ||= SecureRandom.hex(32))
      end

      # @param request [Rack::Request]
      def initialize(request)
        @request = request
        nonce = request.cookies[COOKIE].to_s
        @new_nonce = !nonce.match?(/\A\h{32}\z/)
        @nonce = @new_nonce ? SecureRandom.hex(16) : nonce
      end

      # @return [String] the token forms carry
      def token
        OpenSSL::HMAC.hexdigest('SHA256', self.class.secret.to_s, @nonce)
      end

      # @param submitted [String, nil]
      def valid?(submitted)
        !@new_nonce && submitted.is_a?(String) && Rack::Utils.secure_compare(token, submitted)
      end

      # Sets the nonce cookie when the browser has none yet.
      def set_cookie(headers) # rubocop:disable Naming/AccessorMethodName -- sets a response header
        return unless @new_nonce

        path = @request.script_name.to_s.empty? ? '/' : @request.script_name
        headers['set-cookie'] = "#{COOKIE}=#{@nonce}; path=#{path}; HttpOnly; SameSite=Strict"
      end
    end
  end
end
