// The C-STORE SCP: a listener of our own, one DcmThreadSCP a association, one committed
// DicomBatch an instance. See store_scp.h.
#include "ingest/dicom/store_scp.h"

#include <arpa/inet.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/dcmnet/assoc.h>
#include <dcmtk/dcmnet/diutil.h>
#include <dcmtk/dcmnet/dul.h>
#include <dcmtk/dcmnet/scpthrd.h>
#include <dcmtk/oflog/oflog.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <list>
#include <mutex>
#include <sstream>
#include <thread>

namespace oncomesh::ingest {
namespace {

// C-STORE response statuses (PS3.4 Annex B.2.3).
constexpr Uint16 kSuccess = STATUS_Success;
constexpr Uint16 kOutOfResources = 0xA700;
constexpr Uint16 kDataSetDoesNotMatch = 0xA900;
constexpr Uint16 kCannotUnderstand = 0xC000;

// How long a silent peer keeps its association (seconds): Stop() waits for it at most this.
constexpr int kDimseTimeout = 60;
// How long the listener waits for an A-ASSOCIATE-RQ once a connection is accepted (seconds):
// a peer that connects and sends nothing holds the listener this long at most.
constexpr int kAcseTimeout = 10;

std::string Trimmed(const OFString& s) {
  std::string t = s.c_str();
  const size_t begin = t.find_first_not_of(' ');
  const size_t end = t.find_last_not_of(' ');
  return begin == std::string::npos ? "" : t.substr(begin, end - begin + 1);
}

std::string Hex(Uint16 status) {
  std::ostringstream s;
  s << "0x" << std::hex << std::uppercase << status;
  return s.str();
}

// What the node did with one instance: the response's status and Error Comment.
struct StoreAnswer {
  Uint16 status = kSuccess;
  std::string comment;
};

class Worker : public DcmThreadSCP {
 public:
  Worker(const node::NodeDir& node, const StoreScpOptions& options)
      : node_(node), options_(options) {}

 protected:
  OFBool checkCalledAETitleAccepted(const OFString& called) override {
    if (Trimmed(called) == options_.ae_title) return OFTrue;
    LogRefusal("called AE title '" + Trimmed(called) + "' is not " + options_.ae_title);
    return OFFalse;
  }

  OFBool checkCallingAETitleAccepted(const OFString& calling) override {
    const std::vector<std::string>& allowed = options_.allowed_calling_ae_titles;
    if (allowed.empty() ||
        std::find(allowed.begin(), allowed.end(), Trimmed(calling)) != allowed.end()) {
      return OFTrue;
    }
    LogRefusal("calling AE title '" + Trimmed(calling) +
               "' is not in imaging.allowed_calling_ae_titles");
    return OFFalse;
  }

  void notifyAssociationAcknowledge() override {
    Result<std::unique_ptr<store::Store>> s = node_.OpenStore();
    if (s.ok()) {
      store_ = std::move(*s);
    } else {
      store_error_ = s.status().message();
      std::cerr << "dicom: " << Peer() << ": the store cannot be opened: " << store_error_ << "\n";
    }
  }

  OFCondition handleIncomingCommand(T_DIMSE_Message* msg,
                                    const DcmPresentationContextInfo& info) override {
    if (msg->CommandField != DIMSE_C_STORE_RQ)
      return DcmThreadSCP::handleIncomingCommand(msg, info);
    T_DIMSE_C_StoreRQ& request = msg->msg.CStoreRQ;
    DcmFileFormat file;
    DcmDataset* dataset = file.getDataset();
    OFCondition cond = receiveSTORERequest(request, info.presentationContextID, dataset);
    if (cond.bad()) return cond;  // the association is broken: DcmSCP ends it
    const StoreAnswer answer = Store(file);
    if (answer.status != kSuccess) {
      const char* sop_class = dcmFindNameOfUID(request.AffectedSOPClassUID, nullptr);
      std::cerr << "dicom: " << Peer() << ": C-STORE message " << request.MessageID << " ("
                << (sop_class != nullptr ? sop_class : request.AffectedSOPClassUID)
                << ") refused with status " << Hex(answer.status) << ": " << answer.comment << "\n";
    }
    if (answer.comment.empty()) {
      return sendSTOREResponse(info.presentationContextID, request, answer.status);
    }
    // With an Error Comment (0000,0902) saying why (at most 64 characters).
    T_DIMSE_Message rsp;
    std::memset(&rsp, 0, sizeof rsp);
    rsp.CommandField = DIMSE_C_STORE_RSP;
    T_DIMSE_C_StoreRSP& r = rsp.msg.CStoreRSP;
    r.MessageIDBeingRespondedTo = request.MessageID;
    r.DimseStatus = answer.status;
    r.DataSetType = DIMSE_DATASET_NULL;
    OFStandard::strlcpy(r.AffectedSOPClassUID, request.AffectedSOPClassUID,
                        sizeof r.AffectedSOPClassUID);
    OFStandard::strlcpy(r.AffectedSOPInstanceUID, request.AffectedSOPInstanceUID,
                        sizeof r.AffectedSOPInstanceUID);
    r.opts = O_STORE_AFFECTEDSOPCLASSUID | O_STORE_AFFECTEDSOPINSTANCEUID;
    DcmDataset detail;
    detail.putAndInsertString(DCM_ErrorComment, answer.comment.substr(0, 64).c_str());
    return sendDIMSEMessage(info.presentationContextID, &rsp, nullptr, &detail);
  }

  void notifyAssociationTermination() override { store_.reset(); }

 private:
  std::string Peer() const { return Trimmed(getPeerAETitle()) + "@" + getPeerIP().c_str(); }

  void LogRefusal(const std::string& why) const {
    std::cerr << "dicom: association from " << Peer() << " refused: " << why << "\n";
  }

  // De-identified, stored and committed (or quarantined and committed) before it is answered:
  // a Success is never given for an instance the node would lose (store_scp.h).
  StoreAnswer Store(DcmFileFormat& file) {
    if (!store_) return {kOutOfResources, "the node cannot store now: " + store_error_};
    const std::string source = "C-STORE from " + Peer();
    Result<std::unique_ptr<DicomBatch>> batch =
        DicomBatch::Begin(node_, *store_, options_.ingest, source);
    if (!batch.ok()) return {kOutOfResources, batch.status().message()};
    const DicomOutcome out = (*batch)->AddDataset(file, source);
    StoreAnswer answer;
    switch (out.kind) {
      case DicomOutcome::Kind::kStored:
      case DicomOutcome::Kind::kAlreadyStored:
        break;
      case DicomOutcome::Kind::kQuarantined:
        answer = {kCannotUnderstand, out.reason};
        break;
      case DicomOutcome::Kind::kFailed:
        answer = {
            out.reason.rfind("missing mandatory", 0) == 0 ? kDataSetDoesNotMatch : kOutOfResources,
            out.reason};
        break;
    }
    Result<store::IngestCounts> counts = (*batch)->Commit();
    if (!counts.ok()) {
      return {kOutOfResources, "not kept: " + counts.status().message()};
    }
    if (counts->added > 0 && options_.on_commit) options_.on_commit();
    return answer;
  }

  const node::NodeDir& node_;
  const StoreScpOptions& options_;
  std::unique_ptr<store::Store> store_;
  std::string store_error_;
};

// The presentation contexts the SCP accepts (store_scp.h).
Status AddPresentationContexts(DcmSCPConfig& config) {
  OFList<OFString> syntaxes;
  // In order of preference when a context offers several: lossless encodings first, so that
  // an image sent in RLE or JPEG-LS is taken as it is (the sender need not decode it), then the
  // uncompressed ones, lossy encodings last (taken only when nothing else is offered).
  for (const char* uid :
       {UID_RLELosslessTransferSyntax, UID_JPEGLSLosslessTransferSyntax,
        UID_JPEG2000LosslessOnlyTransferSyntax, UID_JPEGProcess14SV1TransferSyntax,
        UID_JPEGProcess14TransferSyntax, UID_DeflatedExplicitVRLittleEndianTransferSyntax,
        UID_LittleEndianExplicitTransferSyntax, UID_BigEndianExplicitTransferSyntax,
        UID_LittleEndianImplicitTransferSyntax, UID_JPEGProcess1TransferSyntax,
        UID_JPEGProcess2_4TransferSyntax, UID_JPEGLSLossyTransferSyntax,
        UID_JPEG2000TransferSyntax}) {
    syntaxes.push_back(uid);
  }
  // DCMTK takes at most 128 presentation contexts a profile: the 120 storage SOP classes its
  // own storescu proposes (images of every modality, SEG, RT, SR, presentation states…).
  for (int i = 0; i < numberOfDcmLongSCUStorageSOPClassUIDs; ++i) {
    const OFCondition added =
        config.addPresentationContext(dcmLongSCUStorageSOPClassUIDs[i], syntaxes);
    if (added.bad()) {
      return Internal(std::string("dicom: cannot configure the presentation context of ") +
                      dcmLongSCUStorageSOPClassUIDs[i] + ": " + added.text());
    }
  }
  OFList<OFString> echo_syntaxes;
  echo_syntaxes.push_back(UID_LittleEndianImplicitTransferSyntax);
  echo_syntaxes.push_back(UID_LittleEndianExplicitTransferSyntax);
  const OFCondition echo = config.addPresentationContext(UID_VerificationSOPClass, echo_syntaxes);
  if (echo.bad()) return Internal(std::string("dicom: cannot configure C-ECHO: ") + echo.text());
  return Status::Ok();
}

// A listening TCP socket on address:port (IPv4; DCMTK's acceptor is IPv4 only).
Result<int> ListenOn(const std::string& address, uint16_t port) {
  addrinfo hints{};
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (::getaddrinfo(address.c_str(), nullptr, &hints, &found) != 0 || found == nullptr) {
    return InvalidArgument("dicom: cannot listen on '" + address +
                           "': not an IPv4 address or a host name with one");
  }
  sockaddr_in addr = *reinterpret_cast<const sockaddr_in*>(found->ai_addr);
  ::freeaddrinfo(found);
  addr.sin_port = htons(port);
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Unavailable("dicom: cannot create a socket: " + std::string(strerror(errno)));
  const int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd, 64) != 0) {
    const std::string why = strerror(errno);
    ::close(fd);
    return Unavailable("dicom: cannot listen on " + address + ":" + std::to_string(port) + ": " +
                       why);
  }
  return fd;
}

}  // namespace

struct StoreScp::Listener {
  T_ASC_Network* network = nullptr;
  DcmSharedSCPConfig config;
  std::atomic<bool> stop{false};
  struct Running {
    std::thread thread;
    std::shared_ptr<std::atomic<bool>> done;
  };
  std::list<Running> running;  // only the accept thread touches it
  std::thread accept_thread;

  ~Listener() {
    if (network != nullptr) ASC_dropNetwork(&network);
  }

  void JoinFinished(bool all) {
    for (auto it = running.begin(); it != running.end();) {
      if (all || it->done->load()) {
        it->thread.join();
        it = running.erase(it);
      } else {
        ++it;
      }
    }
  }

  static void Refuse(T_ASC_Association* assoc, const std::string& why) {
    std::cerr << "dicom: association from " << Trimmed(assoc->params->DULparams.callingAPTitle)
              << "@" << assoc->params->DULparams.callingPresentationAddress << " refused: " << why
              << "\n";
    T_ASC_RejectParameters reject{ASC_RESULT_REJECTEDTRANSIENT,
                                  ASC_SOURCE_SERVICEPROVIDER_PRESENTATION_RELATED,
                                  ASC_REASON_SP_PRES_LOCALLIMITEXCEEDED};
    (void)ASC_rejectAssociation(assoc, &reject);
  }

  void Loop(const node::NodeDir& node, const StoreScpOptions& options) {
    while (!stop.load()) {
      T_ASC_Association* assoc = nullptr;
      const OFCondition cond = ASC_receiveAssociation(
          network, &assoc, static_cast<long>(config->getMaxReceivePDULength()), nullptr, nullptr,
          OFFalse, DUL_NOBLOCK, 1);
      JoinFinished(false);
      if (cond == DUL_NOASSOCIATIONREQUEST) {
        ASC_destroyAssociation(&assoc);
        continue;
      }
      if (cond.bad() || static_cast<int>(running.size()) >= options.max_associations) {
        if (cond.bad()) {
          std::cerr << "dicom: an association request could not be read: " << cond.text() << "\n";
        } else {
          Refuse(assoc, std::to_string(options.max_associations) + " associations already run");
        }
        if (assoc != nullptr) {
          ASC_dropAssociation(assoc);
          ASC_destroyAssociation(&assoc);
        }
        continue;
      }
      auto done = std::make_shared<std::atomic<bool>>(false);
      DcmSharedSCPConfig shared = config;
      running.push_back({std::thread([&node, &options, shared, assoc, done] {
                           {
                             Worker worker(node, options);
                             (void)worker.setSharedConfig(shared);
                             (void)worker.run(assoc);
                           }  // its destructor drops and frees the association
                           done->store(true);
                         }),
                         done});
    }
    JoinFinished(true);
  }
};

StoreScp::StoreScp(const node::NodeDir& node, StoreScpOptions options)
    : node_(node), options_(std::move(options)) {}

Result<std::unique_ptr<StoreScp>> StoreScp::Start(const node::NodeDir& node,
                                                  StoreScpOptions options) {
  if (options.ae_title.empty() || options.ae_title.size() > 16) {
    return InvalidArgument("dicom: the AE title must be 1 to 16 characters, not '" +
                           options.ae_title + "'");
  }
  for (const std::string& t : options.allowed_calling_ae_titles) {
    if (t.empty() || t.size() > 16) {
      return InvalidArgument(
          "dicom: an allowed calling AE title must be 1 to 16 characters, not '" + t + "'");
    }
  }
  if (options.max_associations < 1) {
    return InvalidArgument("dicom: max_associations must be at least 1");
  }
  {
    // What a killed process left behind goes first (dicom_ingest.h).
    ASSIGN_OR_RETURN(std::unique_ptr<store::Store> store, node.OpenStore());
    ASSIGN_OR_RETURN(const int64_t removed, SweepDicomLeftovers(node, *store));
    if (removed > 0) {
      std::cerr << "dicom: removed " << removed
                << " file(s) an interrupted ingest left (temporary or never committed)\n";
    }
  }
  std::unique_ptr<StoreScp> scp(new StoreScp(node, std::move(options)));
  OFLog::configure(OFLogger::WARN_LOG_LEVEL);
  // DCMTK sets TCP_NODELAY on its sockets only when this variable says so; without it every
  // C-STORE waited for the peer's delayed ACK (Nagle): 11 instances/s from storescu on the
  // loopback, 1,200/s with it. An operator's own setting wins.
  ::setenv("TCP_NODELAY", "1", 0);
  dcmDisableGethostbyaddr.set(OFTrue);  // peers are logged by address, never looked up

  DcmSCPConfig config;
  config.setAETitle(scp->options_.ae_title.c_str());
  config.setHostLookupEnabled(OFFalse);
  config.setDIMSEBlockingMode(DIMSE_NONBLOCKING);
  config.setDIMSETimeout(kDimseTimeout);
  RETURN_IF_ERROR(AddPresentationContexts(config));

  ASSIGN_OR_RETURN(const int fd, ListenOn(scp->options_.address, scp->options_.port));
  sockaddr_in bound{};
  socklen_t length = sizeof bound;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &length);
  scp->port_ = ntohs(bound.sin_port);
  // DCMTK 3.6.7 binds its acceptor to every interface and takes no address: it is given an
  // ephemeral port, and its socket is at once replaced by ours (dup2 onto the descriptor it
  // listens on), so that it accepts only on the configured address.
  auto listener = std::make_unique<Listener>();
  listener->config = DcmSharedSCPConfig(config);
  const OFCondition init = ASC_initializeNetwork(NET_ACCEPTOR, 0, kAcseTimeout, &listener->network);
  const int dcmtk_fd = init.good() ? DUL_networkSocket(listener->network->network) : -1;
  if (dcmtk_fd < 0 || ::dup2(fd, dcmtk_fd) < 0) {
    ::close(fd);
    return Unavailable(std::string("dicom: cannot set up the DICOM network: ") +
                       (init.good() ? strerror(errno) : init.text()));
  }
  ::close(fd);
  ::fcntl(dcmtk_fd, F_SETFD, FD_CLOEXEC);
  Listener* l = listener.get();
  const node::NodeDir* n = &scp->node_;
  const StoreScpOptions* o = &scp->options_;
  l->accept_thread = std::thread([l, n, o] { l->Loop(*n, *o); });
  scp->listener_ = std::move(listener);
  return scp;
}

StoreScp::~StoreScp() { Stop(); }

void StoreScp::Stop() {
  if (listener_ && listener_->accept_thread.joinable()) {
    listener_->stop.store(true);
    listener_->accept_thread.join();
  }
  listener_.reset();
}

}  // namespace oncomesh::ingest
